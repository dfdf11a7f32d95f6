import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostClient } from '../../../src/host/client/host-client.js';
import { kmsPaths } from '../../../src/kms/data-dir.js';
import { startAgentProcess, type AgentProcess } from '../../host/harness.js';
import { kmsNode, makeKmsDataDir, type KmsDataDir, type KmsNode } from '../../keyprovider/kms-nodes.js';
import { stopAll } from '../../helpers/process.js';
import { startManagerProcess, type ManagerProcess } from '../helpers/manager-process.js';
import { addHostToManager } from '../helpers/host-agents.js';
import type { ManagerApi } from '../helpers/manager-api.js';
import { waitFor } from '../../helpers/wait.js';

/**
 * Two managers sharing one KMS (key provider `kp1` on both; `kp2`, the same KMS under another
 * name, only on manager 1), four real host agents on one shared directory: esx1, esx2 and
 * esx3 (`--no-migrate-encryption`) with manager 1, esx4 with manager 2. Every host mounts the
 * directory as datastore `shared` of its manager.
 */
export interface MigrationLab {
  readonly root: string;
  readonly sharedPath: string;
  readonly kms: KmsNode;
  readonly m1: ManagerProcess;
  readonly m2: ManagerProcess;
  /** Host ids by agent name (esx4's in manager 2). */
  readonly hostIds: Readonly<Record<string, string>>;
  /** Datastore `shared` in each manager; `shared2` (a second directory) on esx1 and esx2 of manager 1. */
  readonly datastore: { readonly m1: string; readonly m2: string; readonly m1second: string };
  /** The agent, through the client certificate of the manager it is paired with. */
  host(name: string): HostClient;
  stop(): Promise<void>;
}

/** The KMS owns each key per client identity: managers sharing a provider share its client identity (docs/lab.md). */
async function provider(api: ManagerApi, name: string, kms: KmsNode, data: KmsDataDir, id: { cert: unknown; key: unknown }): Promise<void> {
  await api.post('/api/key-providers', { name, servers: [{ name: 'kms1', host: '127.0.0.1', port: kms.port }] });
  await api.post(`/api/key-providers/${name}/trust/server-certificates`, { certPem: await readFile(kmsPaths(data.dir).caCert, 'utf8') });
  await api.post(`/api/key-providers/${name}/trust/client-certificate`, { certPem: String(id.cert), keyPem: String(id.key) });
}

export async function startMigrationLab(): Promise<MigrationLab> {
  const root = await mkdtemp(join(tmpdir(), 'vmcrypt-migr-'));
  const sharedPath = join(root, 'shared');
  await mkdir(sharedPath, { recursive: true });
  await mkdir(join(root, 'shared2'), { recursive: true });
  const data = await makeKmsDataDir();
  const kms = await kmsNode('kms1', data);
  const names = ['esx1', 'esx2', 'esx3', 'esx4'];
  const [, m1, m2, ...agents] = await Promise.all([
    kms.start(),
    startManagerProcess(join(root, 'm1'), { pollMs: 300, keyRetryMs: 300 }),
    startManagerProcess(join(root, 'm2'), { pollMs: 300, keyRetryMs: 300 }),
    ...names.map((n) => startAgentProcess(join(root, n), n, n === 'esx3' ? ['--no-migrate-encryption'] : [])),
  ]) as [unknown, ManagerProcess, ManagerProcess, ...AgentProcess[]];
  const shared = await data.identity('vmcrypt-managers');
  await provider(m1.admin, 'kp1', kms, data, shared);
  await provider(m1.admin, 'kp2', kms, data, await data.identity('vmcrypt-m1-only'));
  await provider(m2.admin, 'kp1', kms, data, shared);
  const hostIds: Record<string, string> = {};
  for (const [i, a] of agents.entries()) {
    const n = names[i] ?? '';
    hostIds[n] = (await addHostToManager(n === 'esx4' ? m2.admin : m1.admin, a)).id;
  }
  const connected = async (api: ManagerApi, ids: string[]): Promise<boolean> => {
    const { hosts } = await api.get<{ hosts: Array<{ id: string; connectionState: string }> }>('/api/hosts');
    return ids.every((id) => hosts.find((h) => h.id === id)?.connectionState === 'connected');
  };
  await waitFor('hosts connected', async () => (await connected(m1.admin, ['esx1', 'esx2', 'esx3'].map((n) => hostIds[n] ?? ''))) && connected(m2.admin, [hostIds['esx4'] ?? '']), 30_000, 200);
  const ds1 = await m1.admin.post<{ id: string }>('/api/datastores', { name: 'shared', path: sharedPath, hostIds: ['esx1', 'esx2', 'esx3'].map((n) => hostIds[n]) });
  const ds2 = await m2.admin.post<{ id: string }>('/api/datastores', { name: 'shared', path: sharedPath, hostIds: [hostIds['esx4']] });
  const ds3 = await m1.admin.post<{ id: string }>('/api/datastores', { name: 'shared2', path: join(root, 'shared2'), hostIds: ['esx1', 'esx2'].map((n) => hostIds[n]) });
  const certs = async (m: ManagerProcess) => ({
    certPem: await readFile(join(m.dataDir, 'tls', 'host-client.crt'), 'utf8'), keyPem: await readFile(join(m.dataDir, 'tls', 'host-client.key'), 'utf8'),
  });
  const [c1, c2] = await Promise.all([certs(m1), certs(m2)]);
  return {
    root, sharedPath, kms, m1, m2, hostIds, datastore: { m1: ds1.id, m2: ds2.id, m1second: ds3.id },
    host(name) {
      const a = agents[names.indexOf(name)];
      if (a === undefined) throw new Error(`no agent ${name}`);
      return new HostClient({ url: a.url, thumbprint: a.thumbprint, ...(name === 'esx4' ? c2 : c1) });
    },
    async stop() {
      await stopAll();
      await kms.stop();
      await data.remove();
      await rm(root, { recursive: true, force: true });
    },
  };
}
