import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostClient } from '../../../src/host/client/host-client.js';
import { kmsPaths } from '../../../src/kms/data-dir.js';
import { stopAll } from '../../helpers/process.js';
import { kmsNode, makeKmsDataDir, type KmsDataDir, type KmsNode } from '../../keyprovider/kms-nodes.js';
import { startManagerProcess, type ManagerProcess } from '../helpers/manager-process.js';
import { addHostToManager, type AgentProcess } from '../helpers/host-agents.js';
import { vmcryptArgv } from '../../helpers/cli.js';
import { freePort } from '../../helpers/net.js';
import { startProcess } from '../../helpers/process.js';
import { ManagerApiError, type ManagerApi } from '../helpers/manager-api.js';
import { waitFor } from '../../helpers/wait.js';

/**
 * The real thing for VM operation tests: `vmcrypt kms serve`, `vmcrypt manager serve` and host
 * agents on loopback, a key provider trusted the operator's way, hosts added with their pairing
 * tokens. The test reads guests' disks through the host agent with the manager's own client
 * certificate (the host pins it), never through the manager.
 */
export interface LabHost { id: string; name: string }
export interface LabAgent extends AgentProcess { port: number; dir: string; name: string }
export interface Ev { id: number; type: string; severity: string; message: string; entity?: { kind: string; id: string }; data?: Record<string, unknown> }
export interface VmJson {
  id: string; name: string; hostId: string; vmxPath?: string;
  desired: { policyId: string; encryption: boolean };
  observed: { encrypted: boolean; locked: boolean; powerState: string; keys: Array<{ part: string; key: { providerId: string; keyId: string } }> };
  compliance: { status: string; reason?: string };
  operation?: { kind: string; state: string; step: string };
}

export interface Lab {
  readonly root: string;
  readonly manager: ManagerProcess;
  readonly kms: KmsNode;
  readonly agents: LabAgent[];
  readonly hosts: LabHost[];
  api(): ManagerApi;
  host(i: number): HostClient;
  /** kill -9, then start again on the same port and data (optionally with a test fault set). */
  restartAgent(i: number, env?: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
}

const READY = /listening on (\S+) thumbprint=([0-9a-f]{64})/;

/**
 * `vmcrypt host serve --allow-crash`: the agent's test-only switches (injected free space,
 * VMCRYPT_TEST_FAULT) are on; `env` names the fault for this run of the agent.
 */
async function startTestAgent(dataDir: string, name: string, port?: number, env: Record<string, string> = {}): Promise<AgentProcess & { port: number }> {
  const p = port ?? (await freePort());
  const proc = await startProcess(process.execPath, [...vmcryptArgv(), 'host', 'serve', '--data', dataDir, '--name', name, '--listen', `127.0.0.1:${p}`, '--allow-crash'], {
    ready: READY, readyTimeoutMs: 60_000, env: { ...process.env, ...env },
  });
  const m = READY.exec(proc.output());
  const t = /pairing token[^:]*\): ([0-9a-f]{32})/.exec(proc.output());
  return { proc, url: m?.[1] ?? '', thumbprint: m?.[2] ?? '', pairingToken: t?.[1], port: p };
}

export { waitFor };

export async function startLab(prefix: string, agentCount: number): Promise<Lab> {
  const root = await mkdtemp(join(tmpdir(), `vmcrypt-${prefix}-`));
  let kmsData: KmsDataDir | undefined;
  kmsData = await makeKmsDataDir();
  const kms = await kmsNode('kms1', kmsData);
  const names = Array.from({ length: agentCount }, (_, i) => `esx${i + 1}`);
  const [, manager, ...started] = await Promise.all([
    kms.start(),
    startManagerProcess(join(root, 'manager'), { pollMs: 300, keyRetryMs: 300 }),
    ...names.map((n) => startTestAgent(join(root, n), n)),
  ]);
  const agents: LabAgent[] = started.map((a, i) => ({ ...a, dir: join(root, names[i] ?? ''), name: names[i] ?? '' }));
  const api = () => manager.admin;
  await api().post('/api/key-providers', { name: 'kp1', servers: [{ name: 'kms1', host: '127.0.0.1', port: kms.port }] });
  await api().post('/api/key-providers/kp1/trust/server-certificates', { certPem: await readFile(kmsPaths(kmsData.dir).caCert, 'utf8') });
  const id = await kmsData.identity('vmcrypt-manager-vmops');
  await api().post('/api/key-providers/kp1/trust/client-certificate', { certPem: String(id.cert), keyPem: String(id.key) });
  const hosts: LabHost[] = [];
  for (const a of agents) hosts.push(await addHostToManager(api(), a));
  const certPem = await readFile(join(manager.dataDir, 'tls', 'host-client.crt'), 'utf8');
  const keyPem = await readFile(join(manager.dataDir, 'tls', 'host-client.key'), 'utf8');
  const data = kmsData;
  return {
    root, manager, kms, agents, hosts, api,
    host: (i) => {
      const a = agents[i];
      if (a === undefined) throw new Error(`no agent ${i}`);
      return new HostClient({ url: a.url, thumbprint: a.thumbprint, certPem, keyPem });
    },
    async restartAgent(i, env) {
      const a = agents[i];
      if (a === undefined) throw new Error('no agent');
      await a.proc.kill();
      const again = await startTestAgent(a.dir, a.name, a.port, env);
      agents[i] = { ...again, dir: a.dir, name: a.name };
    },
    async stop() {
      await stopAll();
      await kms.stop();
      await data.remove();
      await rm(root, { recursive: true, force: true });
    },
  };
}

export const lastEventId = async (api: ManagerApi): Promise<number> => (await api.get<Ev[]>('/api/events?limit=1')).at(-1)?.id ?? 0;
export const eventsOf = (api: ManagerApi, afterId: number, type: string): Promise<Ev[]> => api.get<Ev[]>(`/api/events?afterId=${afterId}&type=${encodeURIComponent(type)}&limit=1000`);

/** The manager's refusal: its code and message (which names the rule). */
export async function refusal(p: Promise<unknown>): Promise<{ status: number; code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ManagerApiError) return { status: err.status, code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a refusal, the call succeeded');
}

export async function runTask<T = Record<string, unknown>>(api: ManagerApi, started: Promise<{ id: string } | { task?: { id: string } }>): Promise<T & { state: string; error?: { code: string; message: string } }> {
  const r = await started;
  const id = 'task' in r && r.task !== undefined ? r.task.id : (r as { id: string }).id;
  return api.waitTask<T & { error?: { code: string; message: string } }>(id, 300_000);
}

export async function datastoreOf(api: ManagerApi, name: string): Promise<string> {
  const ds = (await api.get<{ datastores: Array<{ id: string; name: string }> }>('/api/datastores')).datastores.find((d) => d.name === name);
  if (ds === undefined) throw new Error(`no datastore ${name}`);
  return ds.id;
}

export async function createVm(api: ManagerApi, spec: { name: string; hostId: string; datastoreId: string; policyId?: string; disks: number[] }): Promise<string> {
  const t = await runTask<{ result?: { vmId: string } }>(api, api.post('/api/vms', {
    name: spec.name, hostId: spec.hostId, datastoreId: spec.datastoreId, disks: spec.disks.map((sizeBytes) => ({ sizeBytes })),
    ...(spec.policyId === undefined ? {} : { policyId: spec.policyId }),
  }));
  if (t.state !== 'success') throw new Error(`create ${spec.name}: ${JSON.stringify(t.error)}`);
  return t.result?.vmId ?? '';
}

/** Guest-visible bytes: written / checked with qemu-io patterns through the running VM's QEMU. */
export const PATTERNS: ReadonlyArray<{ pattern: number; offset: string; len: string }> = [
  { pattern: 0x5a, offset: '0', len: '64k' },
  { pattern: 0xa7, offset: '1m', len: '128k' },
  { pattern: 0x3c, offset: '2m', len: '4k' },
];

export async function qemuIo(host: HostClient, vmId: string, command: string, disk = 0): Promise<string> {
  return (await host.call<{ output: string }>('POST', `/v1/vms/${vmId}/qemu-io`, { disk, command })).output;
}

export async function writeGuestData(host: HostClient, vmId: string, disk = 0): Promise<void> {
  for (const p of PATTERNS) {
    const out = await qemuIo(host, vmId, `write -P 0x${p.pattern.toString(16)} ${p.offset} ${p.len}`, disk);
    if (!/wrote/.test(out)) throw new Error(`qemu-io write failed: ${out}`);
  }
}

/** Every pattern reads back exactly (qemu-io's `read -P` compares each byte). */
export async function guestDataIntact(host: HostClient, vmId: string, disk = 0): Promise<boolean> {
  for (const p of PATTERNS) {
    const out = await qemuIo(host, vmId, `read -P 0x${p.pattern.toString(16)} ${p.offset} ${p.len}`, disk);
    if (!/read \d+\/\d+ bytes/.test(out) || /[Pp]attern verification failed/.test(out)) return false;
  }
  return true;
}
