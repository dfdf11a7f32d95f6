import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCipheriv, randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EtcdKeyStore, openEtcdKeyStore, parseEtcdEndpoints } from '../../../src/kms/store/etcd.js';
import { startTestEtcd, type TestEtcdCluster } from '../../helpers/etcd.js';

let etcd: TestEtcdCluster;
let nodeA: EtcdKeyStore;
let nodeB: EtcdKeyStore;
let nodeC: EtcdKeyStore;

beforeAll(async () => {
  etcd = await startTestEtcd(3);
  const endpoints = parseEtcdEndpoints(etcd.endpoints);
  // Three KMS nodes of one cluster, each with its own client (and its own first endpoint).
  nodeA = await openEtcdKeyStore({ endpoints, masterKeyId: 'mk-1' });
  nodeB = await openEtcdKeyStore({ endpoints: [...endpoints.slice(1), ...endpoints.slice(0, 1)], masterKeyId: 'mk-1' });
  nodeC = await openEtcdKeyStore({ endpoints: [...endpoints].reverse(), masterKeyId: 'mk-1' });
});

afterAll(async () => {
  await Promise.all([nodeA?.close(), nodeB?.close(), nodeC?.close()]);
  await etcd?.destroy();
});

/** What the KMS does before a key reaches the store (AES-256-GCM, AAD = id); the store sees only this. */
function seal(clear: Buffer, id: string, mk: Buffer): Buffer {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', mk, iv);
  c.setAAD(Buffer.from(id));
  return Buffer.concat([iv, c.update(clear), c.final(), c.getAuthTag()]);
}

describe('EtcdKeyStore contract', () => {
  it('insert on one node is read on the others at once', async () => {
    const id = nodeA.newId();
    const rec = await nodeA.insert({ id, owner: 'alice', attributes: '{"state":"PreActive"}', sealedKey: Buffer.from([1, 2, 3]) });
    expect(rec.version).toBe(1);
    const onB = await nodeB.get(id);
    expect(onB).toEqual({ id, owner: 'alice', version: 1, attributes: '{"state":"PreActive"}', sealedKey: Buffer.from([1, 2, 3]) });
    const onC = await nodeC.get(id);
    expect(onC?.sealedKey).toEqual(Buffer.from([1, 2, 3]));
    expect(await nodeC.get(nodeC.newId())).toBeUndefined();
  });

  it('refuses a taken id, updates with compare-and-set, reports conflicts and missing records', async () => {
    const id = nodeA.newId();
    await nodeA.insert({ id, owner: 'o', attributes: '{}', sealedKey: null });
    await expect(nodeB.insert({ id, owner: 'x', attributes: '{}', sealedKey: null })).rejects.toMatchObject({ code: 'STORE_ID_EXISTS' });
    const v2 = await nodeB.update(id, 1, { attributes: '{"state":"Active"}', sealedKey: Buffer.from('s') });
    expect(v2).toMatchObject({ version: 2, owner: 'o', attributes: '{"state":"Active"}' });
    await expect(nodeC.update(id, 1, { attributes: '{}', sealedKey: null })).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
    await expect(nodeC.update(nodeC.newId(), 1, { attributes: '{}', sealedKey: null })).rejects.toMatchObject({ code: 'STORE_NOT_FOUND' });
    const v3 = await nodeC.update(id, 2, { attributes: '{"state":"Destroyed"}', sealedKey: null });
    expect(v3.version).toBe(3);
    expect((await nodeA.get(id))?.sealedKey).toBeNull();
  });

  it('an update from a node that read the record earlier (one round trip) still detects conflicts', async () => {
    const id = nodeA.newId();
    await nodeA.insert({ id, owner: 'cached', attributes: '{"v":1}', sealedKey: null });
    expect((await nodeC.get(id))?.version).toBe(1); // nodeC now knows the owner
    await nodeB.update(id, 1, { attributes: '{"v":2}', sealedKey: null });
    await expect(nodeC.update(id, 1, { attributes: '{"stale":true}', sealedKey: null })).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
    const v3 = await nodeC.update(id, 2, { attributes: '{"v":3}', sealedKey: Buffer.from('k') });
    expect(v3).toMatchObject({ owner: 'cached', version: 3 });
    expect(await nodeA.get(id)).toMatchObject({ owner: 'cached', version: 3, attributes: '{"v":3}' });
  });

  it('concurrent writers: one insert per id wins, one update per version wins', async () => {
    const id = nodeA.newId();
    const ins = await Promise.allSettled([nodeA, nodeB, nodeC].map((n, i) => n.insert({ id, owner: `n${i}`, attributes: '{}', sealedKey: null })));
    expect(ins.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const upd = await Promise.allSettled([nodeA, nodeB, nodeC].map((n, i) => n.update(id, 1, { attributes: `{"by":${i}}`, sealedKey: null })));
    expect(upd.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(upd.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(['STORE_CONFLICT', 'STORE_CONFLICT']);
  });

  it('concurrent creates on three nodes never collide', async () => {
    const ids = await Promise.all(
      Array.from({ length: 60 }, (_, i) => {
        const n = [nodeA, nodeB, nodeC][i % 3] as EtcdKeyStore;
        const id = n.newId();
        return n.insert({ id, owner: 'bulk', attributes: '{}', sealedKey: null }).then((r) => r.id);
      }),
    );
    expect(new Set(ids).size).toBe(60);
    const listed = await nodeB.list({ owner: 'bulk' });
    expect(new Set(listed.map((r) => r.id))).toEqual(new Set(ids));
  });

  it('lists in insertion order, across pages, filtered by owner', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 520; i++) {
      const id = nodeA.newId();
      ids.push(id);
      await nodeA.insert({ id, owner: 'pager', attributes: `{"i":${i}}`, sealedKey: null });
    }
    const listed = await nodeC.list({ owner: 'pager' });
    expect(listed.map((r) => r.id)).toEqual(ids);
    const all = await nodeC.list();
    expect(all.length).toBeGreaterThan(520);
  });

  it('refuses a node whose master key differs from the cluster', async () => {
    await expect(openEtcdKeyStore({ endpoints: parseEtcdEndpoints(etcd.endpoints), masterKeyId: 'mk-other' })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
  });

  it('validates endpoints', () => {
    expect(() => parseEtcdEndpoints('')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => parseEtcdEndpoints('ftp://x:1')).toThrow(/not http/);
  });

  it('no clear key bytes reach etcd: only sealed material is in the members\' data dirs', async () => {
    const mk = randomBytes(32);
    const clearKeys: Buffer[] = [];
    const sealedKeys: Buffer[] = [];
    for (let i = 0; i < 20; i++) {
      const id = nodeA.newId();
      const clear = randomBytes(32);
      const sealed = seal(clear, id, mk);
      clearKeys.push(clear);
      sealedKeys.push(sealed);
      await nodeA.insert({ id, owner: 'scan', attributes: '{}', sealedKey: sealed });
    }
    const files = await allFiles(etcd.dataRoot);
    const blobs = await Promise.all(files.map((f) => readFile(f)));
    const found = (needle: Buffer): boolean => blobs.some((b) => b.includes(needle));
    // Positive control: the scan does see what the store wrote (the sealed value, base64 in the record).
    expect(sealedKeys.some((s) => found(Buffer.from(s.toString('base64'))))).toBe(true);
    for (const k of clearKeys) {
      for (const form of [k, Buffer.from(k.toString('hex')), Buffer.from(k.toString('base64')), Buffer.from(k.toString('base64').slice(0, 40))]) {
        expect(found(form)).toBe(false);
      }
    }
  });
});

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await allFiles(p)));
    else if (e.isFile() && (await stat(p)).size > 0) out.push(p);
  }
  return out;
}
