import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKmsCluster } from '../../../src/cli/commands/kms-cluster.js';
import { openEtcdKeyStore, parseEtcdEndpoints } from '../../../src/kms/store/etcd.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('kms cluster up (etcd part)', () => {
  it('brings up 3 etcd members, records the layout, and restarts the same cluster with its data', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vmcrypt-kms-cluster-'));
    dirs.push(dir);
    let cluster = await startKmsCluster({ dir, kmsNodes: 0 });
    const endpoints = cluster.etcd.endpoints;
    let store = await openEtcdKeyStore({ endpoints: parseEtcdEndpoints(endpoints) });
    const id = store.newId();
    await store.insert({ id, owner: 'o', attributes: '{}', sealedKey: Buffer.from('sealed') });
    await store.close();
    await cluster.stop();
    const layout = JSON.parse(await readFile(join(dir, 'cluster.json'), 'utf8')) as { etcd: unknown[]; kmsPorts: unknown[] };
    expect(layout.etcd).toHaveLength(3);
    expect(layout.kmsPorts).toHaveLength(3);

    cluster = await startKmsCluster({ dir, kmsNodes: 0 });
    try {
      expect(cluster.etcd.endpoints).toBe(endpoints);
      store = await openEtcdKeyStore({ endpoints: parseEtcdEndpoints(endpoints) });
      expect((await store.get(id))?.sealedKey).toEqual(Buffer.from('sealed'));
      await store.close();
    } finally {
      await cluster.stop();
    }
  });
});
