import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { encodeRequestMessage } from '../../src/kmip/message/request.js';
import { Operation } from '../../src/kmip/operation-codes.js';
import { encodeQueryRequest } from '../../src/kmip/payloads/query.js';
import { encodeTtlv } from '../../src/kmip/ttlv/index.js';
import { initDataDir, kmsPaths } from '../../src/kms/data-dir.js';
import { coreLimitOfSelf } from '../../src/kms/process-hardening.js';
import { serveKms, type RunningKms } from '../../src/kms/serve.js';
import { CertificateUsage, issueCertificate } from '../../src/pki/index.js';
import { canTalk } from './kmip-connection.js';
import { managerTls } from './kmip-call.js';

let dir: string;
let data: string;
let kms: RunningKms;
const lines: string[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmcrypt-kms-hardening-'));
  data = join(dir, 'kms');
  await initDataDir(data); // legacy clear CA key: the test signs its own client certificates with it
  kms = await serveKms({ dataDir: data, host: '127.0.0.1', port: 0, log: (l) => lines.push(l) });
}, 60_000);
afterAll(async () => {
  await kms?.close();
  await rm(dir, { recursive: true, force: true });
});

const query = encodeTtlv(encodeRequestMessage({ header: { protocolVersion: { major: 1, minor: 1 }, batchCount: 1 }, batchItems: [{ operation: Operation.Query, payload: encodeQueryRequest({ queryFunctions: [1] }) }] }));

describe('KMS process hardening and client certificate checks', () => {
  it('turns off its own core dumps at start', async () => {
    expect(await coreLimitOfSelf()).toBe('0');
  });

  it('refuses a client certificate from its own CA once it has expired (a valid one from the same CA works)', async () => {
    const p = kmsPaths(data);
    const ca = { certPem: await readFile(p.caCert, 'utf8'), keyPem: await readFile(p.caKey, 'utf8') };
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(Date.now() - 10 * 86_400_000));
    const expired = await issueCertificate({ ca, commonName: 'old-host', usage: CertificateUsage.CLIENT, days: 1 });
    vi.useRealTimers();
    const valid = await issueCertificate({ ca, commonName: 'new-host', usage: CertificateUsage.CLIENT, days: 1 });
    expect(await canTalk(kms.port, { ca: ca.certPem, cert: valid.certPem, key: valid.keyPem }, query)).toBe(true);
    expect(await canTalk(kms.port, { ca: ca.certPem, cert: expired.certPem, key: expired.keyPem }, query)).toBe(false);
    expect(await canTalk(kms.port, await managerTls(data), query)).toBe(true);
  });
});
