import { LabError, LabErrorCode } from './errors.js';
import type { LabManagerClient } from './manager-client.js';

export const LAB_CLUSTER = 'lab-cluster';
export const LAB_DATASTORE = 'shared';
export const DEMO_VM = 'demo';
const DEMO_DISK_BYTES = 16 * 1024 * 1024;
const DEMO_MEMORY_MIB = 64;
const CONNECT_WAIT_MS = 60_000;

interface Host { id: string; name: string; url: string; connectionState: string; clusterId?: string }
interface Cluster { id: string; name: string; ha: boolean }
interface Datastore { id: string; name: string; path: string; hosts: Array<{ hostId: string }> }
interface Policy { id: string; name: string; encryption: boolean }
interface Vm { id: string; name: string }

/** What the lab knows of an agent it started (its printed thumbprint and token). */
export interface AgentSeen {
  readonly name: string;
  readonly url: string;
  readonly thumbprint: string;
  readonly pairingToken: string | undefined;
}

export interface InventoryResult {
  readonly clusterId: string;
  readonly hostIds: readonly string[];
  readonly datastoreId: string;
  readonly demoVmId: string;
  readonly demoVmCreated: boolean;
}

/** One HA cluster: VM keys then reach both hosts, so a VM can restart on either. */
async function ensureCluster(api: LabManagerClient): Promise<Cluster> {
  const { clusters } = await api.get<{ clusters: Cluster[] }>('/api/clusters');
  const c = clusters.find((x) => x.name === LAB_CLUSTER) ?? (await api.post<Cluster>('/api/clusters', { name: LAB_CLUSTER, ha: true }));
  if (!c.ha) await api.post(`/api/clusters/${c.id}/ha`, { ha: true });
  return c;
}

/** Adds an agent the operator's way: probe, compare the thumbprint with the printed one, pair with the token. */
async function ensureHost(api: LabManagerClient, agent: AgentSeen, clusterId: string): Promise<string> {
  const { hosts } = await api.get<{ hosts: Host[] }>('/api/hosts');
  const known = hosts.find((h) => h.url === agent.url || h.name === agent.name);
  if (known !== undefined) return known.id;
  const probe = await api.post<{ thumbprint: string }>('/api/hosts/probe', { url: agent.url });
  if (probe.thumbprint.replace(/:/g, '').toLowerCase() !== agent.thumbprint) {
    throw new LabError(LabErrorCode.SETUP_FAILED, `${agent.name}: the manager saw thumbprint ${probe.thumbprint}, the agent printed ${agent.thumbprint}`);
  }
  if (agent.pairingToken === undefined) {
    throw new LabError(LabErrorCode.SETUP_FAILED, `${agent.name} is paired with another manager (no pairing token): remove its data directory or use a new --dir`);
  }
  const added = await api.post<Host>('/api/hosts', { url: agent.url, thumbprint: probe.thumbprint, pairingToken: agent.pairingToken, clusterId });
  return added.id;
}

async function waitConnected(api: LabManagerClient, hostIds: readonly string[]): Promise<void> {
  const end = Date.now() + CONNECT_WAIT_MS;
  for (;;) {
    const { hosts } = await api.get<{ hosts: Host[] }>('/api/hosts');
    const waiting = hostIds.filter((id) => hosts.find((h) => h.id === id)?.connectionState !== 'connected');
    if (waiting.length === 0) return;
    if (Date.now() > end) throw new LabError(LabErrorCode.SETUP_FAILED, `hosts not connected after ${CONNECT_WAIT_MS} ms: ${waiting.join(', ')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The same directory mounted on every host: shared storage, where a VM can run on either. */
async function ensureSharedDatastore(api: LabManagerClient, path: string, hostIds: readonly string[]): Promise<string> {
  const { datastores } = await api.get<{ datastores: Datastore[] }>('/api/datastores');
  const ds = datastores.find((d) => d.name === LAB_DATASTORE);
  if (ds !== undefined && hostIds.every((id) => ds.hosts.some((h) => h.hostId === id))) return ds.id;
  const made = await api.post<Datastore>('/api/datastores', { name: LAB_DATASTORE, path, hostIds });
  return made.id;
}

/** A diskful VM without an OS under "Datastore Default": not encrypted, so the tour encrypts it. */
async function ensureDemoVm(api: LabManagerClient, hostId: string, datastoreId: string): Promise<{ id: string; created: boolean }> {
  const { vms } = await api.get<{ vms: Vm[] }>('/api/vms');
  const vm = vms.find((v) => v.name === DEMO_VM);
  if (vm !== undefined) return { id: vm.id, created: false };
  const { policies } = await api.get<{ policies: Policy[] }>('/api/policies');
  const plain = policies.find((p) => p.name === 'Datastore Default');
  if (plain === undefined || !policies.some((p) => p.name === 'VM Encryption Policy')) {
    throw new LabError(LabErrorCode.SETUP_FAILED, 'the manager lacks its built-in storage policies (Datastore Default, VM Encryption Policy)');
  }
  const r = await api.post<{ vm: Vm; task: { id: string } }>('/api/vms', {
    name: DEMO_VM, hostId, datastoreId, policyId: plain.id, memoryMiB: DEMO_MEMORY_MIB, disks: [{ sizeBytes: DEMO_DISK_BYTES }],
  });
  const t = await api.waitTask(r.task.id, 120_000);
  const id = (t.result as { vmId?: unknown } | undefined)?.vmId;
  return { id: typeof id === 'string' ? id : r.vm.id, created: true };
}

/**
 * Cluster, hosts, shared datastore, demo VM: each step only when missing, so a second `lab up`
 * changes nothing. A further manager (`--managers 2`) gets the same layout without the demo VM:
 * its hosts mount the same directory, so a VM can migrate or be cloned between the managers.
 */
export async function ensureInventory(api: LabManagerClient, agents: readonly AgentSeen[], sharedPath: string, o: { demoVm?: boolean } = {}): Promise<InventoryResult> {
  const cluster = await ensureCluster(api);
  const hostIds: string[] = [];
  for (const a of agents) hostIds.push(await ensureHost(api, a, cluster.id));
  await waitConnected(api, hostIds);
  if (hostIds.length === 0) return { clusterId: cluster.id, hostIds, datastoreId: '', demoVmId: '', demoVmCreated: false };
  const datastoreId = await ensureSharedDatastore(api, sharedPath, hostIds);
  if (o.demoVm === false) return { clusterId: cluster.id, hostIds, datastoreId, demoVmId: '', demoVmCreated: false };
  const demo = await ensureDemoVm(api, hostIds[0] as string, datastoreId);
  return { clusterId: cluster.id, hostIds, datastoreId, demoVmId: demo.id, demoVmCreated: demo.created };
}
