import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operationName } from '../../../src/kmip/operation-codes.js';
import { operationHandlers } from '../../../src/kms/handler-table.js';
import { repoRoot, vmcryptArgv } from '../../helpers/cli.js';
import { freePort } from '../../helpers/net.js';
import { startProcess, stopAll } from '../../helpers/process.js';

const run = promisify(execFile);
const PY = '/usr/bin/python3';

let dir: string;
let port: number;
let client: { cert: string; key: string; ca: string };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmcrypt-kms-objects-'));
  const data = join(dir, 'kms');
  const { stdout } = await run(process.execPath, [...vmcryptArgv(), 'kms', 'init', '--data', data, '--auto-unseal-file', `${data}.unseal`, '--json'], { cwd: repoRoot });
  const init = JSON.parse(stdout) as { caCert: string; client: { cert: string; key: string } };
  client = { cert: init.client.cert, key: init.client.key, ca: init.caCert };
  port = await freePort();
  await startProcess(process.execPath, [...vmcryptArgv(), 'kms', 'serve', '--data', data, '--auto-unseal-file', `${data}.unseal`, '--listen', `127.0.0.1:${port}`], {
    ready: /kms listening on 127\.0\.0\.1:\d+/,
    cwd: repoRoot,
  });
});

afterAll(async () => {
  await stopAll();
  await rm(dir, { recursive: true, force: true });
});

describe('PyKMIP client: secret data and opaque objects against vmcrypt kms serve', () => {
  it.each(['1.1', '1.2'])('registers, gets, locates and destroys each type (KMIP %s); Query lists what is served', async (version) => {
    const script = join(repoRoot, 'test', 'kms', 'interop', 'pykmip_objects.py');
    const { stdout } = await run(PY, [script, '127.0.0.1', String(port), client.cert, client.key, client.ca, version]);
    const r = JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
    expect(r.password).toEqual({ class: 'SecretData', same_value: true, bytes: 28, data_type: 'PASSWORD' });
    expect(r.seed).toEqual({ class: 'SecretData', same_value: true, bytes: 48, data_type: 'SEED' });
    expect(r.opaque).toEqual({ class: 'OpaqueObject', same_value: true, bytes: 13, data_type: 'NONE' });
    // Each run registers its own objects; Locate by Object Type finds them (and the other run's, if any).
    expect(r.locate_secret).toEqual(expect.arrayContaining([r.ids.password, r.ids.seed].sort()));
    expect(r.locate_secret).not.toContain(r.ids.opaque);
    expect(r.locate_opaque).toContain(r.ids.opaque);
    // KMIP 1.4 §4.21: the content of a destroyed object is gone: Item Not Found.
    for (const label of ['password', 'seed', 'opaque']) expect(r.get_after_destroy[label]).toMatch(/ITEM_NOT_FOUND/);
    expect(r.query_objects).toEqual(['CERTIFICATE', 'OPAQUE_DATA', 'PRIVATE_KEY', 'PUBLIC_KEY', 'SECRET_DATA', 'SPLIT_KEY', 'SYMMETRIC_KEY', 'TEMPLATE']);
    // Query Operations lists exactly the handler table, in PyKMIP's names (CreateKeyPair = CREATE_KEY_PAIR).
    const pykmipName = (op: number) => operationName(op).replace(/([a-z])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toUpperCase();
    expect(r.query_operations).toEqual([...operationHandlers.keys()].map(pykmipName).sort());
  });
});
