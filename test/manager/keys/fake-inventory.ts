import type { ClusterRecord, HostRecord, InventoryView, KeyRef, VmRecord } from '../../../src/manager/contracts.js';

/** An in-memory InventoryView for unit tests (no host gateway unless given). */
export function fakeInventory(data: {
  clusters?: ClusterRecord[];
  hosts: HostRecord[];
  vms: VmRecord[];
  gateway?: InventoryView['hosts'];
}): InventoryView & { crypto: Array<{ hostId: string; mode: string; hostKey?: KeyRef }> } {
  const hosts = new Map(data.hosts.map((h) => [h.id, h]));
  const crypto: Array<{ hostId: string; mode: string; hostKey?: KeyRef }> = [];
  return {
    crypto,
    hosts: data.gateway ?? { call: () => Promise.reject(new Error('no gateway in this test')) },
    host: (id) => hosts.get(id),
    listHosts: () => [...hosts.values()],
    cluster: (id) => data.clusters?.find((c) => c.id === id),
    clusterHosts: (id) => [...hosts.values()].filter((h) => h.clusterId === id),
    vm: (id) => data.vms.find((v) => v.id === id),
    listVms: () => data.vms,
    vmsOnHost: (id) => data.vms.filter((v) => v.hostId === id),
    setHostCrypto(hostId, mode, hostKey) {
      crypto.push({ hostId, mode, ...(hostKey === undefined ? {} : { hostKey }) });
      const h = hosts.get(hostId);
      if (h !== undefined) hosts.set(hostId, { ...h, cryptoMode: mode, ...(hostKey === undefined ? {} : { hostKey }) });
    },
  };
}

export function host(id: string, clusterId?: string, extra: Partial<HostRecord> = {}): HostRecord {
  return {
    id,
    name: id,
    url: `https://127.0.0.1/${id}`,
    thumbprint: 'x',
    ...(clusterId === undefined ? {} : { clusterId }),
    connectionState: 'connected',
    cryptoMode: 'safe',
    ...extra,
  };
}

export function vm(id: string, hostId: string, keyIds: string[], providerId = 'kp'): VmRecord {
  return {
    id,
    name: id,
    hostId,
    datastoreId: 'ds',
    policyId: 'enc',
    keys: keyIds.map((keyId, i) => ({ part: i === 0 ? 'vm' : `disk${i - 1}`, key: { providerId, keyId } })),
    powerState: 'poweredOff',
    locked: false,
  };
}
