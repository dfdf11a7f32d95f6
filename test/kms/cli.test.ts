import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, vmcryptArgv } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { startProcess, stopAll } from '../helpers/process.js';
import { encodeRequestMessage } from '../../src/kmip/message/request.js';
import { Operation } from '../../src/kmip/operation-codes.js';
import { encodeQueryRequest } from '../../src/kmip/payloads/query.js';
import { encodeTtlv } from '../../src/kmip/ttlv/index.js';
import { createCa, issueCertificate, writeCertificateFile, writePrivateKeyFile, CertificateUsage } from '../../src/pki/index.js';
import { canTalk } from './kmip-connection.js';

const run = promisify(execFile);
const vmcrypt = (...args: string[]) => run(process.execPath, [...vmcryptArgv(), ...args], { cwd: repoRoot });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmcrypt-kms-cli-'));
});
afterAll(async () => {
  await stopAll();
  await rm(dir, { recursive: true, force: true });
});

describe('vmcrypt kms CLI', () => {
  it('kms init creates a 0600 sealed master key and a PKI, refuses to run twice; issue-client-cert adds a client', async () => {
    const data = join(dir, 'kms');
    const { stdout } = await vmcrypt('kms', 'init', '--data', data, '--json');
    expect(JSON.parse(stdout)).toMatchObject({ threshold: 3, shares: expect.arrayContaining([expect.stringMatching(/^[0-9a-f]{66}-[0-9a-f]{4}$/)]) });
    const r = JSON.parse(stdout);
    expect((await stat(r.masterKey)).mode & 0o777).toBe(0o600);
    expect((await stat(r.client.key)).mode & 0o777).toBe(0o600);
    expect((await stat(data)).mode & 0o777).toBe(0o700);
    expect(r.client.name).toBe('vmcrypt-manager');
    await expect(vmcrypt('kms', 'init', '--data', data)).rejects.toMatchObject({ stderr: expect.stringContaining('CONFIG_INVALID') });
    await expect(vmcrypt('kms', 'issue-client-cert', '--data', data, '--name', 'host-01')).rejects.toMatchObject({ stderr: expect.stringContaining('SEALED') });
    const shares = (JSON.parse(stdout) as { shares: string[] }).shares;
    const issued = JSON.parse((await vmcrypt('kms', 'issue-client-cert', '--data', data, '--name', 'host-01', '--share', shares[4]!, '--share', shares[0]!, '--share', shares[2]!, '--json')).stdout);
    expect(issued.name).toBe('host-01');
    expect(issued.sha256Fingerprint).toMatch(/^[0-9a-f]{64}$/);
    await expect(vmcrypt('kms', 'issue-client-cert', '--data', data, '--name', '../evil')).rejects.toMatchObject({ code: 1 });
  });

  it('kms serve refuses bad flags with usage errors', async () => {
    await expect(vmcrypt('kms', 'serve', '--data', dir, '--listen', 'nope')).rejects.toMatchObject({ code: 2 });
    await expect(vmcrypt('kms', 'serve')).rejects.toMatchObject({ code: 2 });
    await expect(vmcrypt('kms', 'serve', '--data', dir, '--store', 'mongo')).rejects.toMatchObject({ code: 2 });
  });

  it('kms serve --cert/--key/--ca uses an operator PKI instead of the generated one', async () => {
    const data = join(dir, 'byo');
    await vmcrypt('kms', 'init', '--data', data, '--auto-unseal-file', `${data}.unseal`);
    const ca = await createCa({ commonName: 'operator CA' });
    const srv = await issueCertificate({ ca, commonName: 'kms.example', usage: CertificateUsage.SERVER });
    const client = await issueCertificate({ ca, commonName: 'operator-client', usage: CertificateUsage.CLIENT });
    const files = { ca: join(dir, 'op-ca.crt'), cert: join(dir, 'op-srv.crt'), key: join(dir, 'op-srv.key') };
    await writeCertificateFile(files.ca, ca.certPem);
    await writeCertificateFile(files.cert, srv.certPem);
    await writePrivateKeyFile(files.key, srv.keyPem);
    const port = await freePort();
    const kms = await startProcess(
      process.execPath,
      [...vmcryptArgv(), 'kms', 'serve', '--data', data, '--auto-unseal-file', `${data}.unseal`, '--listen', `127.0.0.1:${port}`, '--cert', files.cert, '--key', files.key, '--ca', files.ca],
      { cwd: repoRoot, ready: /kms listening on/ },
    );
    const query = encodeTtlv(
      encodeRequestMessage({
        header: { protocolVersion: { major: 1, minor: 1 }, batchCount: 1 },
        batchItems: [{ operation: Operation.Query, payload: encodeQueryRequest({ queryFunctions: [1] }) }],
      }),
    );
    expect(await canTalk(port, { ca: ca.certPem, cert: client.certPem, key: client.keyPem }, query)).toBe(true);
    const generated = {
      ca: await readFile(join(data, 'pki', 'ca.crt'), 'utf8'),
      cert: await readFile(join(data, 'pki', 'clients', 'vmcrypt-manager.crt'), 'utf8'),
      key: await readFile(join(data, 'pki', 'clients', 'vmcrypt-manager.key'), 'utf8'),
    };
    // The generated client CA is no longer trusted (and the server certificate is the operator's).
    expect(await canTalk(port, { ...generated, ca: ca.certPem }, query)).toBe(false);
    await kms.stop();
  });
});
