import type { HostRecord, InventoryView, KeyRef, VmRecord } from '../contracts.js';
import { distinctKeys, keyRefId } from './key-refs.js';

/**
 * The vSphere 7 push rule: a VM in a cluster with HA gets its KEKs on every host of that
 * cluster (any of them may restart it); otherwise only on the host it is registered on.
 * DRS plays no part. Unknown host = no target.
 */
export function pushTargets(inv: Pick<InventoryView, 'host' | 'cluster' | 'clusterHosts'>, vm: Pick<VmRecord, 'hostId'>): HostRecord[] {
  const host = inv.host(vm.hostId);
  if (host === undefined) return [];
  if (host.clusterId !== undefined && inv.cluster(host.clusterId)?.ha === true) {
    const all = inv.clusterHosts(host.clusterId);
    return all.some((h) => h.id === host.id) ? all : [host, ...all];
  }
  return [host];
}

/** What a host must hold in its key cache, and which of its own VMs wait for which key. */
export interface HostKeyPlan {
  readonly hostId: string;
  /** Every key to push: its VMs' KEKs, HA cluster mates' KEKs, and its host key when crypto-safe. */
  readonly keys: readonly KeyRef[];
  /** Encrypted VMs registered on this host (their lock state depends on this push). */
  readonly vms: readonly VmRecord[];
  readonly hostKey?: KeyRef;
}

/**
 * Keys a host needs after a restart (empty cache): the reverse of `pushTargets`. A host of an
 * HA cluster needs the KEKs of every VM in the cluster, not only of its own.
 */
export function hostKeyPlan(inv: Pick<InventoryView, 'host' | 'cluster' | 'clusterHosts' | 'vmsOnHost'>, hostId: string): HostKeyPlan {
  const host = inv.host(hostId);
  if (host === undefined) return { hostId, keys: [], vms: [] };
  const own = inv.vmsOnHost(hostId).filter((v) => v.keys.length > 0);
  const mates =
    host.clusterId !== undefined && inv.cluster(host.clusterId)?.ha === true
      ? inv.clusterHosts(host.clusterId).filter((h) => h.id !== hostId).flatMap((h) => inv.vmsOnHost(h.id))
      : [];
  const hostKey = host.cryptoMode === 'safe' ? host.hostKey : undefined;
  const keys = distinctKeys([
    ...(hostKey === undefined ? [] : [hostKey]),
    ...own.flatMap((v) => v.keys.map((u) => u.key)),
    ...mates.flatMap((v) => v.keys.map((u) => u.key)),
  ]);
  return { hostId, keys, vms: own, ...(hostKey === undefined ? {} : { hostKey }) };
}

/** Splits VMs by whether every key they need is among `present`. */
export function vmsByKeyPresence(vms: readonly VmRecord[], present: ReadonlySet<string>): { ready: VmRecord[]; waiting: VmRecord[] } {
  const ready: VmRecord[] = [];
  const waiting: VmRecord[] = [];
  for (const v of vms) (v.keys.every((u) => present.has(keyRefId(u.key))) ? ready : waiting).push(v);
  return { ready, waiting };
}
