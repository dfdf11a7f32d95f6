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
  dir = await mkdtemp(join(tmpdir(), 'vmcrypt-kms-crypto-'));
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

describe('PyKMIP client: cryptographic services and key wrapping against vmcrypt kms serve', () => {
  it.each(['1.2', '1.4'])('encrypt/decrypt, sign/verify, RSA-OAEP, mac, derive_key, wrapped get and register agree with pyca/cryptography (KMIP %s)', async (version) => {
    const script = join(repoRoot, 'test', 'kms', 'interop', 'pykmip_crypto.py');
    const { stdout } = await run(PY, [script, '127.0.0.1', String(port), client.cert, client.key, client.ca, version]);
    const r = JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
    expect(r.cbc).toEqual({ iv_bytes: 16, ct_bytes: 4112, local_decrypt: true, server_decrypt: true });
    expect(r.ctr).toEqual({ iv_returned: false, matches_local: true });
    if (version === '1.4') expect(r.gcm).toEqual({ iv_bytes: 12, tag_bytes: 16, local_decrypt: true, server_decrypt: true });
    expect(r.mac).toEqual({ uid: true, matches_local: true });
    expect(r.derive).toEqual({ pbkdf2: true, hmac_is_hkdf: true, nist800_108_counter: true, encrypt: true });
    expect(r.wrap).toEqual({ rfc3394: true, wrapping_data_names_kek: true, register_unwraps: true });
    expect(r.sign).toEqual({ bytes: 256, local_verify: true, server_verify: 'VALID', server_verify_other: 'INVALID' });
    expect(r.rsa_oaep_decrypt).toBe(true);
    expect(r.query_operations).toEqual(expect.arrayContaining(['ENCRYPT', 'DECRYPT', 'MAC', 'MAC_VERIFY', 'DERIVE_KEY', 'SIGN', 'SIGNATURE_VERIFY']));
  });
});
