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

describe('kms cluster up (3 etcd members + 3 KMS nodes)', () => {
  it('a key created on kms-0 is read on kms-1 and kms-2; a killed node comes back', async () => {
    const { KmipClient } = await import('../../../src/kmip/client/index.js');
    const { vmcryptArgv } = await import('../../helpers/cli.js');
    const dir = await mkdtemp(join(tmpdir(), 'vmcrypt-kms-cluster-'));
    dirs.push(dir);
    const cluster = await startKmsCluster({ dir, kmsNodes: 3, vmcryptArgv: vmcryptArgv() });
    const pki = join(cluster.kmsDataDir, 'pki');
    const tls = {
      ca: await readFile(join(pki, 'ca.crt'), 'utf8'),
      cert: await readFile(join(pki, 'clients', 'vmcrypt-manager.crt'), 'utf8'),
      key: await readFile(join(pki, 'clients', 'vmcrypt-manager.key'), 'utf8'),
    };
    const clients = cluster.nodes.map((n) => {
      const [host, port] = n.address.split(':');
      return KmipClient.connect({ host: host ?? '127.0.0.1', port: Number(port), tls });
    });
    try {
      const [c0, c1, c2] = clients as [InstanceType<typeof KmipClient>, InstanceType<typeof KmipClient>, InstanceType<typeof KmipClient>];
      const id = await c0.create({ length: 256 });
      const k1 = await c1.get(id);
      const k2 = await c2.get(id);
      expect(k1.material.equals(k2.material)).toBe(true);
      expect(k1.material).toHaveLength(32);
      k1.material.fill(0);
      k2.material.fill(0);
      await cluster.nodes[0]?.kill();
      const id2 = await c1.create({ length: 128 });
      await cluster.nodes[0]?.start();
      const again = KmipClient.connect({ host: '127.0.0.1', port: Number(cluster.nodes[0]?.address.split(':')[1]), tls });
      const k = await again.get(id2);
      expect(k.material).toHaveLength(16);
      k.material.fill(0);
      await again.close();
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await cluster.stop();
    }
  });
});
