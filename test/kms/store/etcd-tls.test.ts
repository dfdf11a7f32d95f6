import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdKeyStore, openEtcdKeyStore, parseEtcdEndpoints } from '../../../src/kms/store/etcd.js';
import { createCa, issueCertificate } from '../../../src/pki/index.js';
import { startTestEtcd, type TestEtcdCluster } from '../../helpers/etcd.js';

let etcd: TestEtcdCluster;

beforeAll(async () => {
  etcd = await startTestEtcd(3, { tls: true });
});
afterAll(async () => {
  await etcd?.destroy();
});

describe('etcd store over TLS with client certificates', () => {
  it('works with the client certificate the members trust', async () => {
    const endpoints = parseEtcdEndpoints(etcd.endpoints);
    expect(endpoints.every((e) => e.startsWith('https://'))).toBe(true);
    const tls = etcd.clientTls;
    if (tls === undefined) throw new Error('no TLS material');
    const store = await openEtcdKeyStore({ endpoints, tls });
    try {
      const id = store.newId();
      await store.insert({ id, owner: 'o', attributes: '{}', sealedKey: Buffer.from('sealed') });
      expect((await store.get(id))?.sealedKey).toEqual(Buffer.from('sealed'));
    } finally {
      await store.close();
    }
  });

  it('is refused without a client certificate, or with one from another CA', async () => {
    const endpoints = parseEtcdEndpoints(etcd.endpoints);
    const caPem = etcd.clientTls?.caPem ?? '';
    await expect(openEtcdKeyStore({ endpoints, tls: { caPem }, opTimeoutMs: 2000 })).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    const other = await createCa({ commonName: 'other' });
    const stranger = await issueCertificate({ ca: other, commonName: 'stranger', usage: 'client' });
    await expect(
      openEtcdKeyStore({ endpoints, tls: { caPem, certPem: stranger.certPem, keyPem: stranger.keyPem }, opTimeoutMs: 2000 }),
    ).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });

  it('checks that TLS options and endpoint schemes agree', () => {
    const endpoints = parseEtcdEndpoints(etcd.endpoints);
    expect(() => new EtcdKeyStore({ endpoints })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => new EtcdKeyStore({ endpoints: ['http://127.0.0.1:1'], tls: { caPem: 'x' } })).toThrow(/https/);
  });
});
