import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CryptographicUsageMask } from '../../../src/kmip/enums.js';
import { KmipClient } from '../../../src/kmip/client/index.js';
import { stopAll } from '../../helpers/process.js';
import { startPykmip, type PykmipServer } from '../../helpers/pykmip.js';
import { makeManagerIdentity, pairedClient, runCli, startAgentProcess, tempDir } from '../harness.js';

// The host key comes from a real key provider (PyKMIP): the test, as the manager, creates it
// over KMIP and pushes it; crypto-util later fetches it by the id in the dump header with the
// operator's client certificate (KMIP Get), decrypts, and recrypts under a second KMS key.
describe('crypto-util with the host key fetched from the key provider over KMIP', () => {
  let kms: PykmipServer;
  let kmip: KmipClient;
  let dir: { path: string; remove(): Promise<void> };
  const creds: string[] = [];

  beforeAll(async () => {
    kms = await startPykmip();
    kmip = KmipClient.connect({ host: kms.host, port: kms.port, tls: { ca: kms.ca.certPem, cert: kms.client.certPem, key: kms.client.keyPem }, responseTimeoutMs: 20_000 });
    dir = await tempDir('vmcrypt-dumpkmip-');
    const files = { cert: join(dir.path, 'op.crt'), key: join(dir.path, 'op.key'), ca: join(dir.path, 'ca.crt') };
    await writeFile(files.cert, kms.client.certPem);
    await writeFile(files.key, kms.client.keyPem, { mode: 0o600 });
    await writeFile(files.ca, kms.ca.certPem);
    creds.push('--kms', `${kms.host}:${kms.port}`, '--cert', files.cert, '--key', files.key, '--ca', files.ca);
  });
  afterAll(async () => {
    await stopAll();
    await kmip?.close();
    await kms?.stop();
    await dir?.remove();
  });

  it('decrypts and recrypts a core dump with keys fetched by id', async () => {
    const mask = CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt;
    const hostKeyId = await kmip.create({ length: 256, name: `host-key-${Date.now()}`, usageMask: mask });
    const newKeyId = await kmip.create({ length: 256, name: `host-key-2-${Date.now()}`, usageMask: mask });
    const hostKey = (await kmip.get(hostKeyId)).material;
    const data = join(dir.path, 'data');
    const agent = await startAgentProcess(data, 'esx-k');
    const c = await pairedClient(agent, await makeManagerIdentity());
    await c.call('POST', '/v1/host/crypto-mode', { mode: 'prepared' });
    await c.call('POST', '/v1/keys', { keys: [{ keyId: hostKeyId, key: hostKey.toString('base64') }] });
    hostKey.fill(0);
    await c.call('POST', '/v1/host/crypto-mode', { mode: 'safe', hostKeyId });
    const dump = await c.call<{ file: string; location: string; keyId: string }>('POST', '/v1/diagnostics', {});
    expect(dump.keyId).toBe(hostKeyId);
    const file = join(dump.location, dump.file);
    const out = join(dir.path, 'report.json');
    const dec = await runCli(['crypto-util', 'coredump', 'decrypt', file, '--out', out, ...creds]);
    expect(dec.err).toBe('');
    expect(dec.code).toBe(0);
    expect(JSON.parse(await readFile(out, 'utf8'))).toMatchObject({ host: 'esx-k' });
    const wrongId = await runCli(['crypto-util', 'coredump', 'decrypt', file, '--out', out + '.x', ...creds, '--key-id', newKeyId]);
    expect(wrongId.err).toContain('HOST_COREDUMP_WRONG_KEY');
    const re = await runCli(['crypto-util', 'coredump', 'recrypt', file, ...creds, '--new-key-id', newKeyId, '--json']);
    expect(re.code).toBe(0);
    expect(JSON.parse(re.out)).toEqual({ file, oldKeyId: hostKeyId, newKeyId });
    const again = await runCli(['crypto-util', 'coredump', 'decrypt', file, '--out', out + '.2', ...creds]);
    expect(again.code).toBe(0);
    expect(await readFile(out + '.2', 'utf8')).toBe(await readFile(out, 'utf8'));
  });
});
