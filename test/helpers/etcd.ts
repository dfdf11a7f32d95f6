import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEtcdCluster, type EtcdCluster } from '../../src/kms/store/etcd-cluster.js';
import { freePort } from './net.js';
import { createCa, issueCertificate, writeCertificateFile, writePrivateKeyFile } from '../../src/pki/index.js';

export type { EtcdCluster, EtcdMember } from '../../src/kms/store/etcd-cluster.js';

export interface TestEtcdCluster extends EtcdCluster {
  /** Temp dir holding every member's data dir. */
  readonly dataRoot: string;
  /** With `{ tls: true }`: the CA and a client certificate the members accept (for EtcdKeyStoreOptions.tls). */
  readonly clientTls?: { readonly caPem: string; readonly certPem: string; readonly keyPem: string };
  /** Stops every member and removes the temp dir. */
  destroy(): Promise<void>;
}

/**
 * A real etcd cluster (`/usr/bin/etcd`, 3 members by default) on free loopback ports, data in a
 * temp dir. Call `destroy()` in afterAll. Kill/restart members with `members[i].kill()` / `.start()`.
 */
export async function startTestEtcd(size = 3, opts: { tls?: boolean } = {}): Promise<TestEtcdCluster> {
  const dataRoot = await mkdtemp(join(tmpdir(), 'vmcrypt-etcd-'));
  let tlsFiles: { caFile: string; certFile: string; keyFile: string } | undefined;
  let clientTls: TestEtcdCluster['clientTls'];
  if (opts.tls === true) {
    // Real certificates from our PKI: the members serve https and require client certificates.
    const ca = await createCa({ commonName: 'etcd test CA', days: 2 });
    const server = await issueCertificate({ ca, commonName: 'etcd', usage: 'both', days: 2 });
    const client = await issueCertificate({ ca, commonName: 'kms-node', usage: 'client', days: 2 });
    tlsFiles = { caFile: join(dataRoot, 'ca.crt'), certFile: join(dataRoot, 'etcd.crt'), keyFile: join(dataRoot, 'etcd.key') };
    await writeCertificateFile(tlsFiles.caFile, ca.certPem);
    await writeCertificateFile(tlsFiles.certFile, server.certPem);
    await writePrivateKeyFile(tlsFiles.keyFile, server.keyPem);
    clientTls = { caPem: ca.certPem, certPem: client.certPem, keyPem: client.keyPem };
  }
  const ports = new Set<number>();
  while (ports.size < 2 * size) ports.add(await freePort());
  const p = [...ports];
  const members = Array.from({ length: size }, (_, i) => ({ name: `m${i}`, clientPort: p[2 * i] ?? 0, peerPort: p[2 * i + 1] ?? 0 }));
  try {
    const cluster = await startEtcdCluster({ dataRoot, members, ...(tlsFiles === undefined ? {} : { clientTls: tlsFiles }) });
    return {
      ...cluster,
      dataRoot,
      ...(clientTls === undefined ? {} : { clientTls }),
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

/** Index in `cluster.members` of the current raft leader (asks each running member), or -1. */
export async function leaderIndex(cluster: EtcdCluster): Promise<number> {
  const { Etcd3 } = await import('etcd3');
  for (const m of cluster.members) {
    if (!m.running()) continue;
    const c = new Etcd3({ hosts: [m.clientUrl] });
    try {
      const st = await c.maintenance.status({ deadline: new Date(Date.now() + 2000) });
      const idx = await memberIndexById(c, cluster, st.leader);
      if (idx >= 0) return idx;
    } catch {
      // this member cannot tell; ask the next one
    } finally {
      c.close();
    }
  }
  return -1;
}

async function memberIndexById(c: import('etcd3').Etcd3, cluster: EtcdCluster, id: string): Promise<number> {
  const list = await c.cluster.memberList({}, { deadline: new Date(Date.now() + 2000) });
  const leader = list.members.find((m) => m.ID === id);
  return leader === undefined ? -1 : cluster.members.findIndex((m) => m.name === leader.name);
}
