import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { matchRoute, ROUTE_COUNT } from '../../src/host/api/routes.js';
import { HostErrorCode } from '../../src/host/errors.js';
import { repoRoot } from '../helpers/cli.js';

// fastify-style: the docs cannot drift from the code.
describe('host docs stay in sync', () => {
  it('docs/host-api.yaml documents every route, and every documented operation exists', async () => {
    const yaml = await readFile(join(repoRoot, 'docs', 'host-api.yaml'), 'utf8');
    const ops: Array<[string, string]> = [];
    let path = '';
    for (const line of yaml.split('\n')) {
      const p = /^ {2}(\/v1\/\S+):$/.exec(line);
      if (p?.[1] !== undefined) path = p[1];
      const m = /^ {4}(get|post|delete):$/.exec(line);
      if (m?.[1] !== undefined && path !== '') ops.push([m[1].toUpperCase(), path]);
    }
    const concrete = (p: string): string =>
      p.replace('{uuid}', '11111111-2222-4333-8444-555555555555').replace('{snapshotId}', 'abc123').replace('{keyId}', 'kek-1');
    for (const [method, p] of ops.filter(([, p]) => p !== '/v1/pair')) {
      expect(() => matchRoute(method, concrete(p)), `${method} ${p}`).not.toThrow();
    }
    // /v1/pair is served before authorization; /v1/debug/crash is a test-only hook
    expect(ops.length - 1).toBe(ROUTE_COUNT - 1);
  });

  it('docs/host.md lists every error code', async () => {
    const md = await readFile(join(repoRoot, 'docs', 'host.md'), 'utf8');
    for (const code of Object.values(HostErrorCode)) expect(md, code).toContain(`\`${code}\``);
  });
});
