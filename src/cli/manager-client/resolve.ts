import { VmcryptError } from '../../errors.js';
import type { ManagerClient } from './client.js';
import type { ClusterInfo, DatastoreInfo, HostInfo, KeyProviderInfo, PolicyInfo, VmInfo } from './records.js';

interface Named {
  readonly id: string;
  readonly name?: string;
}

/** Picks the object whose id or name is `ref` (id first: names are not unique). */
export function pick<T extends Named>(items: readonly T[], ref: string, kind: string, listVerb: string): T {
  const byId = items.find((i) => i.id === ref);
  if (byId !== undefined) return byId;
  const byName = items.filter((i) => i.name === ref);
  if (byName.length === 1 && byName[0] !== undefined) return byName[0];
  if (byName.length > 1) {
    throw new VmcryptError('AMBIGUOUS', `${byName.length} ${kind}s are named '${ref}': use one of their ids (${byName.map((i) => i.id).join(', ')})`);
  }
  throw new VmcryptError('NOT_FOUND', `no ${kind} '${ref}' (id or name): see ${listVerb}`);
}

export async function listVms(c: ManagerClient): Promise<VmInfo[]> {
  return (await c.get<{ vms: VmInfo[] }>('/api/vms')).vms;
}

export async function listHosts(c: ManagerClient): Promise<HostInfo[]> {
  return (await c.get<{ hosts: HostInfo[] }>('/api/hosts')).hosts;
}

export async function listClusters(c: ManagerClient): Promise<ClusterInfo[]> {
  return (await c.get<{ clusters: ClusterInfo[] }>('/api/clusters')).clusters;
}

export async function listPolicies(c: ManagerClient): Promise<PolicyInfo[]> {
  return (await c.get<{ policies: PolicyInfo[] }>('/api/policies')).policies;
}

export async function listDatastores(c: ManagerClient): Promise<DatastoreInfo[]> {
  return (await c.get<{ datastores: DatastoreInfo[] }>('/api/datastores')).datastores;
}

export async function listProviders(c: ManagerClient): Promise<KeyProviderInfo[]> {
  return (await c.get<{ providers: KeyProviderInfo[] }>('/api/key-providers')).providers;
}

export async function findVm(c: ManagerClient, ref: string): Promise<VmInfo> {
  return pick(await listVms(c), ref, 'VM', 'vmcrypt vm list');
}

export async function findHost(c: ManagerClient, ref: string): Promise<HostInfo> {
  return pick(await listHosts(c), ref, 'host', 'vmcrypt host list');
}

export async function findCluster(c: ManagerClient, ref: string): Promise<ClusterInfo> {
  return pick(await listClusters(c), ref, 'cluster', 'vmcrypt cluster list');
}

export async function findPolicy(c: ManagerClient, ref: string): Promise<PolicyInfo> {
  return pick(await listPolicies(c), ref, 'storage policy', 'vmcrypt policy list');
}

export async function findDatastore(c: ManagerClient, ref: string): Promise<DatastoreInfo> {
  return pick(await listDatastores(c), ref, 'datastore', 'vmcrypt datastore list');
}

/** Key providers are named by their id (vSphere: the provider name is its id). */
export async function findProvider(c: ManagerClient, ref: string): Promise<KeyProviderInfo> {
  return pick(await listProviders(c), ref, 'key provider', 'vmcrypt kms list');
}
