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

/** The manager's list answers are one object with the list under a field named after it. */
async function listOf<T>(c: ManagerClient, path: string, field: string): Promise<T[]> {
  return (await c.get<Record<string, T[]>>(path))[field] ?? [];
}

export const listVms = (c: ManagerClient): Promise<VmInfo[]> => listOf(c, '/api/vms', 'vms');
export const listHosts = (c: ManagerClient): Promise<HostInfo[]> => listOf(c, '/api/hosts', 'hosts');
export const listClusters = (c: ManagerClient): Promise<ClusterInfo[]> => listOf(c, '/api/clusters', 'clusters');
export const listPolicies = (c: ManagerClient): Promise<PolicyInfo[]> => listOf(c, '/api/policies', 'policies');
export const listDatastores = (c: ManagerClient): Promise<DatastoreInfo[]> => listOf(c, '/api/datastores', 'datastores');
export const listProviders = (c: ManagerClient): Promise<KeyProviderInfo[]> => listOf(c, '/api/key-providers', 'providers');

export const findVm = async (c: ManagerClient, ref: string): Promise<VmInfo> => pick(await listVms(c), ref, 'VM', 'vmcrypt vm list');
export const findHost = async (c: ManagerClient, ref: string): Promise<HostInfo> => pick(await listHosts(c), ref, 'host', 'vmcrypt host list');
export const findCluster = async (c: ManagerClient, ref: string): Promise<ClusterInfo> => pick(await listClusters(c), ref, 'cluster', 'vmcrypt cluster list');
export const findPolicy = async (c: ManagerClient, ref: string): Promise<PolicyInfo> => pick(await listPolicies(c), ref, 'storage policy', 'vmcrypt policy list');
export const findDatastore = async (c: ManagerClient, ref: string): Promise<DatastoreInfo> => pick(await listDatastores(c), ref, 'datastore', 'vmcrypt datastore list');
/** Key providers are named by their id (vSphere: the provider name is its id). */
export const findProvider = async (c: ManagerClient, ref: string): Promise<KeyProviderInfo> => pick(await listProviders(c), ref, 'key provider', 'vmcrypt kms list');
