import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyProvider } from '../../../src/keyprovider/index.js';
import { kmsPaths } from '../../../src/kms/data-dir.js';
import { stopAll } from '../../helpers/process.js';
import { kmsNode, makeKmsDataDir, type KmsDataDir, type KmsNode } from '../../keyprovider/kms-nodes.js';
import { startManagerProcess, type ManagerProcess } from '../helpers/manager-process.js';
import { addHostToManager, startAgent, type AgentProcess } from '../helpers/host-agents.js';
import { filesUnder, scanForKeys } from './key-scan.js';
import { waitFor as pollUntil } from '../../helpers/wait.js';

/**
 * Key management with real processes: `vmcrypt kms serve`, `vmcrypt manager serve` and two
 * `vmcrypt host serve` agents on loopback. Host restarts are kill -9 of the agent.
 */
interface Host { id: string; name: string; connectionState: string; cryptoMode: string; hostKey?: { providerId: string; keyId: string } }
interface Vm { id: string; name: string; hostId: string; observed: { encrypted: boolean; locked: boolean; powerState: string; keys?: Array<{ part: string; key: { providerId: string; keyId: string } }> } }
interface Ev { id: number; type: string; severity: string; message: string; entity?: { kind: string; id: string }; data?: Record<string, unknown> }

let root: string;
let kmsData: KmsDataDir;
let kms: KmsNode;
let manager: ManagerProcess;
const agents: Array<AgentProcess & { port: number; dir: string; name: string }> = [];
const hosts: Host[] = [];
let identity: { ca: string; cert: string; key: string };
const api = () => manager.admin;

/** Waits for the manager's reaction; 30 s unless a step says otherwise. */
const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> => pollUntil(what, fn, timeoutMs);

const events = (afterId: number, type: string) => api().get<Ev[]>(`/api/events?afterId=${afterId}&type=${encodeURIComponent(type)}&limit=1000`);
const lastEventId = async () => (await api().get<Ev[]>('/api/events?limit=1')).at(-1)?.id ?? 0;
const vmOf = (id: string) => api().get<Vm>(`/api/vms/${id}`);

async function restartAgent(i: number): Promise<void> {
  const a = agents[i];
  if (a === undefined) throw new Error('no agent');
  await a.proc.kill(); // kill -9: the host "reboots" with an empty key cache
  const again = await startAgent(a.dir, a.name, a.port);
  agents[i] = { ...again, dir: a.dir, name: a.name };
}

async function createEncryptedVm(name: string, host: Host): Promise<string> {
  const policies = await api().get<{ policies: Array<{ id: string; name: string }> }>('/api/policies');
  const enc = policies.policies.find((p) => p.name === 'VM Encryption Policy');
  const ds = (await api().get<{ datastores: Array<{ id: string; name: string }> }>('/api/datastores')).datastores.find((d) => d.name === `${host.name}-local`);
  const r = await api().post<{ task: { id: string } }>('/api/vms', { name, hostId: host.id, datastoreId: ds?.id, policyId: enc?.id, disks: [{ sizeBytes: 1 << 20 }] });
  const t = await api().waitTask<{ result?: { vmId: string }; error?: unknown }>(r.task.id);
  expect(t.state, JSON.stringify(t.error)).toBe('success');
  return t.result?.vmId ?? '';
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vmcrypt-keys-'));
  kmsData = await makeKmsDataDir();
  kms = await kmsNode('kms1', kmsData);
  const starts = await Promise.all([
    kms.start(),
    startManagerProcess(join(root, 'manager'), { pollMs: 200, keyRetryMs: 300 }),
    startAgent(join(root, 'esx1'), 'esx1'),
    startAgent(join(root, 'esx2'), 'esx2'),
  ]);
  manager = starts[1];
  agents.push({ ...starts[2], dir: join(root, 'esx1'), name: 'esx1' }, { ...starts[3], dir: join(root, 'esx2'), name: 'esx2' });
  const id = await kmsData.identity('vmcrypt-manager-test');
  identity = { ca: String(id.ca), cert: String(id.cert), key: String(id.key) };
}, 120_000);

afterAll(async () => {
  await stopAll();
  await kms?.stop();
  await kmsData?.remove();
  await rm(root, { recursive: true, force: true });
});

describe('key management with real KMS, manager and host agents', () => {
  it('adds a key provider, trusts the KMS CA, uploads a client certificate; health is green', async () => {
    const p = await api().post<{ id: string; isDefault: boolean }>('/api/key-providers', { name: 'kp1', servers: [{ name: 'kms1', host: '127.0.0.1', port: kms.port }] });
    expect(p).toMatchObject({ id: 'kp1', isDefault: true });
    const caPem = await readFile(kmsPaths(kmsData.dir).caCert, 'utf8');
    await api().post('/api/key-providers/kp1/trust/server-certificates', { certPem: caPem });
    const trust = await api().post<{ clientIdentity: { source: string } }>('/api/key-providers/kp1/trust/client-certificate', { certPem: identity.cert, keyPem: identity.key });
    expect(trust.clientIdentity.source).toBe('uploaded');
    const h = await api().post<{ color: string; servers: Array<{ status: string; latencyMs?: number }> }>('/api/key-providers/kp1/health');
    expect(h.color).toBe('green');
    expect(h.servers[0]?.status).toBe('ok');
    const listed = await api().get<{ providers: Array<Record<string, unknown>> }>('/api/key-providers');
    expect(JSON.stringify(listed)).not.toMatch(/PRIVATE KEY|sealedKey/);
    const ev = await events(0, 'kms.health');
    expect(ev.at(-1)?.data?.['status']).toBe('green');
  });

  it('one crypto-safe host makes its whole cluster crypto-safe (host keys from the KMS)', async () => {
    const cluster = await api().post<{ id: string }>('/api/clusters', { name: 'prod', ha: false });
    for (const a of agents) hosts.push(await addHostToManager(api(), a, cluster.id));
    const before = await lastEventId();
    const r = await api().post<{ hosts: Array<{ hostId: string; hostKey: { keyId: string } }> }>(`/api/hosts/${hosts[0]?.id}/crypto-safe`, {});
    expect(r.hosts.map((h) => h.hostId).sort()).toEqual(hosts.map((h) => h.id).sort());
    const listed = await api().get<{ hosts: Host[] }>('/api/hosts');
    expect(listed.hosts.map((h) => h.cryptoMode)).toEqual(['safe', 'safe']);
    expect(new Set(listed.hosts.map((h) => h.hostKey?.keyId)).size).toBe(2);
    hosts.splice(0, hosts.length, ...listed.hosts);
    const enabled = (await events(before, 'host.cryptoEnabled')).filter((e) => e.data?.['keyId'] !== undefined);
    expect(enabled.map((e) => e.entity?.id).sort()).toEqual(hosts.map((h) => h.id).sort());
    // the host key is a KEK made for the host, named by this manager's attributes
    const hk = hosts[0]?.hostKey;
    const status = await api().get<{ presentInKms: boolean; state: string; managedByThisManager: boolean; hosts: Array<{ hostId: string; present: boolean }> }>(`/api/keys/kp1/${hk?.keyId}/status`);
    expect(status).toMatchObject({ presentInKms: true, state: 'Active', managedByThisManager: true });
    expect(status.hosts).toEqual([expect.objectContaining({ hostId: hosts[0]?.id, present: true })]);
  });

  let vmId = '';
  it('an encrypted VM powers on; after kill -9 of its host agent it unlocks by itself', async () => {
    vmId = await createEncryptedVm('enc1', hosts[0] as Host);
    const vm = await vmOf(vmId);
    expect(vm.observed).toMatchObject({ encrypted: true, locked: false });
    await api().post(`/api/vms/${vmId}/power-on`);
    const before = await lastEventId();
    await restartAgent(0);
    const unlocked = await waitFor('vm.unlocked after the restart', async () => (await events(before, 'vm.unlocked')).find((e) => e.entity?.id === vmId));
    expect(unlocked.severity).toBe('info');
    await waitFor('VM shown unlocked', async () => (await vmOf(vmId)).observed.locked === false);
    // the keys are really in the new agent's cache: power-on works
    await api().post(`/api/vms/${vmId}/power-on`);
    await waitFor('powered on', async () => (await vmOf(vmId)).observed.powerState === 'poweredOn');
    // the poll that saw it powered on read the agent's events after its own vm.unlocked and
    // host.cryptoSafe: key management is the one source of both, so one unlock is one event
    expect((await events(before, 'vm.unlocked')).filter((e) => e.entity?.id === vmId)).toHaveLength(1);
    const safe = await events(0, 'host.cryptoEnabled');
    expect(safe.map((e) => e.entity?.id).sort()).toEqual(hosts.map((h) => h.id).sort());
  });

  it('with the KMS stopped the VM stays locked (vm.locked.kmsClusterError, kms.unreachable) and unlocks when it returns', async () => {
    await kms.stop();
    const before = await lastEventId();
    await restartAgent(0);
    const locked = await waitFor('vm.locked.kmsClusterError', async () => (await events(before, 'vm.locked.*')).find((e) => e.entity?.id === vmId));
    expect(locked.type).toBe('vm.locked.kmsClusterError');
    expect((await events(before, 'kms.unreachable')).length).toBeGreaterThan(0);
    await waitFor('VM shown locked', async () => (await vmOf(vmId)).observed.locked === true);
    const unlockTry = await api().post<{ locked: boolean; lockReason?: string }>(`/api/vms/${vmId}/unlock`);
    expect(unlockTry).toMatchObject({ locked: true, lockReason: 'kmsClusterError' });
    const alarms = await api().get<unknown>('/api/alarms');
    expect(JSON.stringify(alarms)).toMatch(/vm\.locked/);
    const back = await lastEventId();
    await kms.start();
    await waitFor('vm.unlocked once the KMS is back', async () => (await events(back, 'vm.unlocked')).find((e) => e.entity?.id === vmId), 60_000);
    await waitFor('VM shown unlocked', async () => (await vmOf(vmId)).observed.locked === false);
    expect((await events(back, 'kms.reachable')).length).toBeGreaterThan(0);
  });

  it('an HA cluster pushes a VM\'s keys to both hosts', async () => {
    const cluster = (await api().get<{ clusters: Array<{ id: string }> }>('/api/clusters')).clusters[0];
    await api().post(`/api/clusters/${cluster?.id}/ha`, { ha: true });
    const haVm = await createEncryptedVm('enc-ha', hosts[0] as Host);
    const kek = (await vmOf(haVm)).observed.keys?.[0]?.key;
    expect(kek).toBeDefined();
    const status = await api().get<{ hosts: Array<{ hostId: string; present: boolean }> }>(`/api/keys/kp1/${kek?.keyId}/status`);
    expect(status.hosts.map((h) => [h.hostId, h.present]).sort()).toEqual(hosts.map((h) => [h.id, true]).sort());
    const ents = await api().get<{ entities: Array<{ entity: { kind: string; id: string }; part: string }> }>(`/api/keys/kp1/${kek?.keyId}/entities`);
    expect(ents.entities).toContainEqual(expect.objectContaining({ entity: { kind: 'vm', id: haVm }, part: 'vm' }));
    // the other host restarts: it gets the HA VM's key back though the VM is not registered on it
    await restartAgent(1);
    await waitFor('esx2 has the HA key again', async () => {
      const s = await api().get<{ hosts: Array<{ hostId: string; present: boolean }> }>(`/api/keys/kp1/${kek?.keyId}/status`);
      return s.hosts.find((h) => h.hostId === hosts[1]?.id)?.present === true;
    }, 60_000);
  });

  it('a key destroyed on the KMS leaves its VM locked with vm.locked.keyMissingOnKms', async () => {
    const doomed = await createEncryptedVm('doomed', hosts[0] as Host);
    const kek = (await vmOf(doomed)).observed.keys?.[0]?.key;
    const p = new KeyProvider({ name: 'scan', tls: identity, servers: [{ name: 'kms1', host: '127.0.0.1', port: kms.port }] });
    try {
      await p.revoke(kek?.keyId ?? '');
      await p.destroy(kek?.keyId ?? '');
    } finally {
      await p.close();
    }
    const before = await lastEventId();
    await restartAgent(0);
    const ev = await waitFor('vm.locked.keyMissingOnKms', async () => (await events(before, 'vm.locked.*')).find((e) => e.entity?.id === doomed));
    expect(ev.type).toBe('vm.locked.keyMissingOnKms');
    const st = await api().get<{ presentInKms: boolean | null; state?: string }>(`/api/keys/kp1/${kek?.keyId}/status`);
    expect(st.state === 'Destroyed' || st.presentInKms === false).toBe(true);
    // the other VM of the host is not held back by it
    await waitFor('enc1 unlocked', async () => (await events(before, 'vm.unlocked')).find((e) => e.entity?.id === vmId));
  });

  it('an encrypted VM on a host that is not crypto-safe makes the host crypto-safe first (host key pushed)', async () => {
    const a = await startAgent(join(root, 'esx3'), 'esx3');
    agents.push({ ...a, dir: join(root, 'esx3'), name: 'esx3' });
    const h = await addHostToManager(api(), a);
    expect(h.cryptoMode).toBe('incapable');
    const before = await lastEventId();
    const id = await createEncryptedVm('enc-standalone', { ...h } as Host);
    expect((await vmOf(id)).observed).toMatchObject({ encrypted: true, locked: false });
    const after = await api().get<Host>(`/api/hosts/${h.id}`);
    expect(after.cryptoMode).toBe('safe');
    expect(after.hostKey?.providerId).toBe('kp1');
    expect((await events(before, 'host.cryptoEnabled')).some((e) => e.entity?.id === h.id && e.data?.['keyId'] === after.hostKey?.keyId)).toBe(true);
  });

  it('KEY-SCAN: no KEK in the manager\'s database, WAL, logs or data directory (raw, hex, base64)', async () => {
    const vms = (await api().get<{ vms: Vm[] }>('/api/vms')).vms;
    const listedHosts = (await api().get<{ hosts: Host[] }>('/api/hosts')).hosts;
    const ids = new Set<string>([...vms.flatMap((v) => (v.observed.keys ?? []).map((k) => k.key.keyId)), ...listedHosts.flatMap((h) => (h.hostKey === undefined ? [] : [h.hostKey.keyId]))]);
    const p = new KeyProvider({ name: 'scan', tls: identity, servers: [{ name: 'kms1', host: '127.0.0.1', port: kms.port }] });
    const keys: Buffer[] = [];
    try {
      for (const id of ids) {
        const k = await p.get(id).catch(() => undefined); // the destroyed one has no bytes left
        if (k !== undefined) keys.push(k.material);
      }
    } finally {
      await p.close();
    }
    expect(keys.length).toBeGreaterThanOrEqual(4); // 2 host keys + enc1 + enc-ha
    const files = await filesUnder(manager.dataDir);
    expect(files.some((f) => f.path.endsWith('manager.db'))).toBe(true);
    files.push({ path: 'manager stdout/stderr (its log)', bytes: Buffer.from(manager.proc.output()) });
    expect(scanForKeys(files, keys)).toEqual([]);
    for (const k of keys) k.fill(0);
  });
});
