import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEtcdCluster, type EtcdCluster } from '../../src/kms/store/etcd-cluster.js';
import { freePort } from './net.js';

export type { EtcdCluster, EtcdMember } from '../../src/kms/store/etcd-cluster.js';

export interface TestEtcdCluster extends EtcdCluster {
  /** Temp dir holding every member's data dir. */
  readonly dataRoot: string;
  /** Stops every member and removes the temp dir. */
  destroy(): Promise<void>;
}

/**
 * A real etcd cluster (`/usr/bin/etcd`, 3 members by default) on free loopback ports, data in a
 * temp dir. Call `destroy()` in afterAll. Kill/restart members with `members[i].kill()` / `.start()`.
 */
export async function startTestEtcd(size = 3): Promise<TestEtcdCluster> {
  const dataRoot = await mkdtemp(join(tmpdir(), 'vmcrypt-etcd-'));
  const ports = new Set<number>();
  while (ports.size < 2 * size) ports.add(await freePort());
  const p = [...ports];
  const members = Array.from({ length: size }, (_, i) => ({ name: `m${i}`, clientPort: p[2 * i] ?? 0, peerPort: p[2 * i + 1] ?? 0 }));
  try {
    const cluster = await startEtcdCluster({ dataRoot, members });
    return {
      ...cluster,
      dataRoot,
      async destroy() {
        // A crash stop is enough for a throw-away cluster, and quicker than a graceful one.
        await Promise.all(cluster.members.map((m) => m.kill()));
        await rm(dataRoot, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await rm(dataRoot, { recursive: true, force: true });
    throw e;
  }
}
