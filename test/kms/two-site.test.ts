import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyProvider } from '../../src/keyprovider/key-provider.js';
import { siteLocalOrder } from '../../src/keyprovider/site-order.js';
import { initDataDir } from '../../src/kms/data-dir.js';
import { serveKms, type RunningKms } from '../../src/kms/serve.js';
import { parseEtcdEndpoints } from '../../src/kms/store/etcd.js';
import { startTestEtcd, type TestEtcdCluster } from '../helpers/etcd.js';
import { managerTls } from './kmip-call.js';

let dir: string;
let etcd: TestEtcdCluster;
const nodes = new Map<string, RunningKms>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmcrypt-two-site-'));
  etcd = await startTestEtcd(1);
  const data = join(dir, 'kms');
  const unsealFile = join(dir, 'unseal.key');
  await initDataDir(data, { seal: { shares: 3, threshold: 2, autoUnsealFile: unsealFile } });
  for (const name of ['a1', 'a2', 'b1', 'b2']) {
    nodes.set(name, await serveKms({ dataDir: data, host: '127.0.0.1', port: 0, autoUnsealFile: unsealFile, store: 'etcd', etcdEndpoints: parseEtcdEndpoints(etcd.endpoints), log: () => {} }));
  }
}, 60_000);
afterAll(async () => {
  for (const n of nodes.values()) await n.close();
  await etcd?.destroy();
  await rm(dir, { recursive: true, force: true });
});

describe('a key provider on two sites (seed 003: site-local order)', () => {
  it('site A\'s manager uses A first; with every server of site A down it is served by site B, same keys', async () => {
    const m = await managerTls(join(dir, 'kms'));
    const tls = { ca: m.ca, cert: m.cert!, key: m.key! };
    const server = (n: string) => ({ name: `kms-${n}`, host: '127.0.0.1', port: nodes.get(n)!.port });
    const sites = [
      { name: 'A', servers: [server('a1'), server('a2')] },
      { name: 'B', servers: [server('b1'), server('b2')] },
    ];
    expect(siteLocalOrder(sites, 'B').map((s) => s.name)).toEqual(['kms-b1', 'kms-b2', 'kms-a1', 'kms-a2']);
    const failovers: string[] = [];
    const atA = new KeyProvider({ name: 'two-site', tls, servers: siteLocalOrder(sites, 'A'), connectTimeoutMs: 2000, hungTimeoutMs: 10_000 }, { onFailover: (f) => failovers.push(JSON.stringify(f)) });
    try {
      const id = await atA.create({ length: 256 });
      const before = await atA.get(id);
      // Site A is lost: both of its key servers stop.
      await nodes.get('a1')!.close();
      await nodes.get('a2')!.close();
      nodes.delete('a1');
      nodes.delete('a2');
      const after = await atA.get(id);
      expect(after.material.equals(before.material)).toBe(true);
      expect(failovers.length).toBeGreaterThan(0);
      const id2 = await atA.create({ length: 256 }); // writes go on at site B
      expect((await atA.get(id2)).material).toHaveLength(32);
      before.material.fill(0);
      after.material.fill(0);
    } finally {
      await atA.close();
    }
  }, 120_000);
});
