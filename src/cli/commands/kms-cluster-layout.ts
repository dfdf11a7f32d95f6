import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { VmcryptError } from '../../errors.js';
import { writeAtomically } from '../../fs/atomic-file.js';
import type { EtcdMemberSpec } from '../../kms/store/etcd-cluster.js';

/**
 * DIR/cluster.json of `kms cluster up`: the ports of every etcd member and KMS node, chosen
 * once, so a second `up` on the same DIR restarts the same cluster with its keys.
 */
export interface ClusterLayout {
  readonly version: 1;
  readonly etcd: readonly EtcdMemberSpec[];
  readonly kmsPorts: readonly number[];
}

const MAX_LAYOUT_BYTES = 64 * 1024;

export function layoutPath(dir: string): string {
  return join(dir, 'cluster.json');
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a !== null && typeof a === 'object' ? res(a.port) : rej(new Error('no port'))));
    });
  });
}

async function distinctPorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freeLoopbackPort());
  return [...ports];
}

/** The recorded layout (grown when more KMS nodes are wanted than last time), or a new one on free ports. */
export async function loadOrCreateLayout(dir: string, etcdMembers: number, kmsNodes: number): Promise<ClusterLayout> {
  const path = layoutPath(dir);
  if (existsSync(path)) {
    const text = await readFile(path, 'utf8');
    if (text.length > MAX_LAYOUT_BYTES) throw new VmcryptError('KMS_CLUSTER', `${path} is too large`);
    const layout = parseLayout(text, path);
    if (layout.kmsPorts.length >= kmsNodes) return layout;
    // More KMS nodes than last time: new ports for the extra ones, etcd untouched.
    const extra = (await distinctPorts(kmsNodes + layout.kmsPorts.length + 2 * layout.etcd.length)).filter(
      (p) => !layout.kmsPorts.includes(p) && !layout.etcd.some((m) => m.clientPort === p || m.peerPort === p),
    );
    const grown: ClusterLayout = { ...layout, kmsPorts: [...layout.kmsPorts, ...extra.slice(0, kmsNodes - layout.kmsPorts.length)] };
    await writeLayout(path, grown);
    return grown;
  }
  const ports = await distinctPorts(2 * etcdMembers + kmsNodes);
  const layout: ClusterLayout = {
    version: 1,
    etcd: Array.from({ length: etcdMembers }, (_, i) => ({ name: `etcd-${i}`, clientPort: ports[2 * i] ?? 0, peerPort: ports[2 * i + 1] ?? 0 })),
    kmsPorts: ports.slice(2 * etcdMembers),
  };
  await writeLayout(path, layout);
  return layout;
}

const isPort = (p: unknown): p is number => Number.isInteger(p) && (p as number) >= 1 && (p as number) <= 65535;

/** DIR/cluster.json as `up` wrote it; anything else (hand-edited, truncated) is a clear KMS_CLUSTER error. */
function parseLayout(text: string, path: string): ClusterLayout {
  const bad = (): VmcryptError => new VmcryptError('KMS_CLUSTER', `${path} is not a cluster layout written by vmcrypt`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw bad();
  }
  const l = raw as Partial<Record<keyof ClusterLayout, unknown>> | null;
  if (l === null || typeof l !== 'object' || l.version !== 1 || !Array.isArray(l.etcd) || !Array.isArray(l.kmsPorts)) throw bad();
  if (l.etcd.length < 1 || l.etcd.length > 9 || l.kmsPorts.length > 9 || !l.kmsPorts.every(isPort)) throw bad();
  for (const m of l.etcd as unknown[]) {
    const e = m as Partial<Record<keyof EtcdMemberSpec, unknown>> | null;
    if (e === null || typeof e !== 'object' || typeof e.name !== 'string' || !/^[a-z0-9-]{1,32}$/.test(e.name)) throw bad();
    if (!isPort(e.clientPort) || !isPort(e.peerPort)) throw bad();
  }
  return raw as ClusterLayout;
}

/** Written whole or not at all (temp file, fsync, rename), so a crash never leaves half a layout. */
async function writeLayout(path: string, layout: ClusterLayout): Promise<void> {
  await writeAtomically(path, (fh) => fh.writeFile(JSON.stringify(layout, null, 2) + '\n', 'utf8'));
}
