import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, vmcryptArgv } from '../../helpers/cli.js';
import { freePort } from '../../helpers/net.js';
import { startProcess, stopAll } from '../../helpers/process.js';

const run = promisify(execFile);
const PY = '/usr/bin/python3';

let dir: string;
let port: number;
let client: { cert: string; key: string; ca: string };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmcrypt-kms-locate-py-'));
  const data = join(dir, 'kms');
  const { stdout } = await run(process.execPath, [...vmcryptArgv(), 'kms', 'init', '--data', data, '--auto-unseal-file', `${data}.unseal`, '--json'], { cwd: repoRoot });
  const init = JSON.parse(stdout) as { caCert: string; client: { cert: string; key: string } };
  client = { cert: init.client.cert, key: init.client.key, ca: init.caCert };
  port = await freePort();
  await startProcess(process.execPath, [...vmcryptArgv(), 'kms', 'serve', '--data', data, '--auto-unseal-file', `${data}.unseal`, '--listen', `127.0.0.1:${port}`], {
    ready: /kms listening on 127\.0\.0\.1:\d+/,
    cwd: repoRoot,
  });
}, 60_000);

afterAll(async () => {
  await stopAll();
  await rm(dir, { recursive: true, force: true });
});

describe('PyKMIP client: Locate (served from the index) against vmcrypt kms serve', () => {
  it.each(['1.2', '1.4'])('locates by name, algorithm and length, Maximum/Offset Items and State (KMIP %s)', async (version) => {
    const script = join(repoRoot, 'test', 'kms', 'locate', 'pykmip_locate.py');
    const tag = `py-${version}`;
    const { stdout } = await run(PY, [script, '127.0.0.1', String(port), client.cert, client.key, client.ca, version, tag]);
    const r = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, string[]> & { ids: string[] };
    const [k0, , k2, k3] = r.ids;
    expect(r['by_name']).toEqual([k2]);
    expect(r['aes256']).toEqual([k3, k2]); // newest first
    expect(r['max1']).toEqual([k3]); // the newest key of this identity
    if (version === '1.4') expect(r['offset1']).toEqual([k2]);
    expect(r['destroyed_plain']).toEqual([]);
    expect(r['destroyed_by_state']).toEqual([k0]);
    expect(r['destroyed_attribute_names']).toEqual(expect.arrayContaining(['Destroy Date', 'State', 'Name', 'Unique Identifier']));
  });
});
