import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { matchRoute, ROUTE_TABLE } from '../../src/host/api/routes.js';
import { HostErrorCode } from '../../src/host/errors.js';
import { repoRoot } from '../helpers/cli.js';

// fastify-style: the docs cannot drift from the code.
describe('host docs stay in sync', () => {
  it('docs/host-api.yaml documents exactly the routes the agent serves', async () => {
    const yaml = await readFile(join(repoRoot, 'docs', 'host-api.yaml'), 'utf8');
    const documented = documentedOperations(yaml);
    const served = [...ROUTE_TABLE.map((r) => `${r.method} ${templateOf(r.pattern)}`), PAIRING];
    const expected = served.filter((op) => !UNDOCUMENTED.includes(op));
    expect([...new Set(documented)].sort()).toEqual([...new Set(expected)].sort());
    expect(documented.length, 'an operation documented twice').toBe(new Set(documented).size);
    // The templates above are read from the route regexes: a documented example path must really match.
    for (const op of documented.filter((o) => o !== PAIRING)) {
      const [method, path] = op.split(' ') as [string, string];
      expect(() => matchRoute(method, concrete(path)), op).not.toThrow();
    }
    expect(() => matchRoute('POST', '/v1/pair'), 'pairing moved into the route table').toThrow();
  });

  it('the route regex reader refuses a pattern it cannot name', () => {
    expect(templateOf(/^\/v1\/vms\/([0-9a-f-]{36})\/power$/)).toBe('/v1/vms/{uuid}/power');
    expect(() => templateOf(/^\/v1\/things\/(\d+)$/)).toThrow(/cannot read/);
  });

  it('docs/host.md lists every error code', async () => {
    const md = await readFile(join(repoRoot, 'docs', 'host.md'), 'utf8');
    for (const code of Object.values(HostErrorCode)) expect(md, code).toContain(`\`${code}\``);
  });
});

/** Served by the agent before routing and authorization (src/host/agent.ts), not in the route table. */
const PAIRING = 'POST /v1/pair';
/** Served but deliberately not documented, each with its reason. */
const UNDOCUMENTED: readonly string[] = [
  'POST /v1/debug/crash', // test-only hook, refused unless the agent runs with allowCrash
  'POST /v1/debug/datastore-free', // test-only free-space override, same flag
];

/** Path parameter groups used by the route table, named as docs/host-api.yaml names them. */
const PARAMS: ReadonlyArray<readonly [string, string]> = [
  ['([0-9a-f-]{36})', '{uuid}'],
  ['([a-z0-9-]{1,40})', '{snapshotId}'],
  ['([\\x21-\\x7e]{1,768})', '{keyId}'],
];

/** `/^\/v1\/vms\/([0-9a-f-]{36})$/` → `/v1/vms/{uuid}`; throws on anything it cannot name. */
function templateOf(pattern: RegExp): string {
  let src = pattern.source;
  if (!src.startsWith('^') || !src.endsWith('$')) throw new Error(`cannot read unanchored route ${src}`);
  src = src.slice(1, -1);
  for (const [group, name] of PARAMS) src = src.split(group).join(name);
  const path = src.replace(/\\\//g, '/');
  if (!/^(\/([a-z0-9-]+|\{[a-zA-Z]+\}))+$/.test(path)) throw new Error(`cannot read route pattern ${pattern.source}`);
  return path;
}

/** `METHOD /path` for every operation under `paths:` in the OpenAPI YAML. */
function documentedOperations(yaml: string): string[] {
  const ops: string[] = [];
  let path = '';
  for (const line of yaml.split('\n')) {
    const p = /^ {2}(\/\S+):$/.exec(line);
    if (p?.[1] !== undefined) path = p[1];
    const m = /^ {4}(get|put|post|patch|delete|head|options):$/.exec(line);
    if (m?.[1] !== undefined && path !== '') ops.push(`${m[1].toUpperCase()} ${path}`);
  }
  return ops;
}

function concrete(path: string): string {
  return path.replace('{uuid}', '11111111-2222-4333-8444-555555555555').replace('{snapshotId}', 'abc123').replace('{keyId}', 'kek-1');
}
