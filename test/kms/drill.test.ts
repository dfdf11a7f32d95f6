import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostClient } from '../../src/host/client/host-client.js';
import { initDataDir, kmsPaths } from '../../src/kms/data-dir.js';
import { diesWithParent } from '../../src/proc/launcher.js';
import { repoRoot, vmcryptArgv } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { startProcess, stopAll, type Running } from '../helpers/process.js';
import { addHostToManager, startAgent, type AgentProcess } from '../manager/helpers/host-agents.js';
import { startManagerProcess, type ManagerProcess } from '../manager/helpers/manager-process.js';
import { createVm, datastoreOf, eventsOf, guestDataIntact, lastEventId, waitFor, writeGuestData, type VmJson } from '../manager/vm-ops/lab.js';
import { getKey, managerTls } from './kmip-call.js';

/**
 * The disaster drill through the manager (issue 13): a sealed KMS, a manager and a host agent
 * with encrypted VMs whose guests wrote known bytes → `vmcrypt kms backup` → the KMS process
 * and its whole data directory destroyed → a corrupted copy refused → `kms restore` into a new
 * data directory → `kms serve` there (sealed) → too few shares leave it sealed → the third
 * share unseals it → the host restarts (empty key cache) → every VM unlocks through the
 * manager and reads back what its guest wrote.
 */
const run = promisify(execFile);
const vmcrypt = (...args: string[]) => run(process.execPath, [...vmcryptArgv(), ...args], { cwd: repoRoot, timeout: 120_000 });

let root: string;
let kmsPort: number;
let kmsProc: Running | undefined;
let shares: readonly string[];
let manager: ManagerProcess;
let agent: AgentProcess & { port: number };
let hostId: string;
const vmIds: string[] = [];

async function serveKms(dataDir: string): Promise<Running> {
  const l = diesWithParent(process.execPath, [...vmcryptArgv(), 'kms', 'serve', '--data', dataDir, '--listen', `127.0.0.1:${kmsPort}`]);
  return startProcess(l.cmd, l.args, { ready: /kms listening on/, readyTimeoutMs: 60_000 });
}

const api = () => manager.admin;
const vmOf = (id: string) => api().get<VmJson>(`/api/vms/${id}`);
function hostClient(): Promise<HostClient> {
  return Promise.all([readFile(join(manager.dataDir, 'tls', 'host-client.crt'), 'utf8'), readFile(join(manager.dataDir, 'tls', 'host-client.key'), 'utf8')])
    .then(([certPem, keyPem]) => new HostClient({ url: agent.url, thumbprint: agent.thumbprint, certPem, keyPem }));
}
async function powerOn(id: string): Promise<void> {
  await api().post(`/api/vms/${id}/power-on`);
  await waitFor(`${id} powered on`, async () => (await vmOf(id)).observed.powerState === 'poweredOn');
}
const exists = (p: string) => stat(p).then(() => true, () => false);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vmcrypt-drill-'));
  kmsPort = await freePort();
  const kmsDir = join(root, 'site-a', 'kms');
  const init = await initDataDir(kmsDir, { seal: { shares: 5, threshold: 3 } });
  shares = init.shares ?? [];
  const [kms, m, a] = await Promise.all([
    serveKms(kmsDir),
    startManagerProcess(join(root, 'manager'), { pollMs: 300, keyRetryMs: 300 }),
    startAgent(join(root, 'esx1'), 'esx1'),
  ]);
  kmsProc = kms;
  manager = m;
  agent = a;
  await vmcrypt('kms', 'unseal', '--data', kmsDir, '--share', shares[0]!, '--share', shares[2]!, '--share', shares[4]!);
  await api().post('/api/key-providers', { name: 'kp1', servers: [{ name: 'kms1', host: '127.0.0.1', port: kmsPort }] });
  await api().post('/api/key-providers/kp1/trust/server-certificates', { certPem: await readFile(kmsPaths(kmsDir).caCert, 'utf8') });
  await api().post('/api/key-providers/kp1/trust/client-certificate', { certPem: await readFile(init.manager.cert, 'utf8'), keyPem: await readFile(init.manager.key, 'utf8') });
  hostId = (await addHostToManager(api(), agent)).id;
}, 180_000);

afterAll(async () => {
  await stopAll();
  await rm(root, { recursive: true, force: true });
});

describe('disaster drill through the manager: backup → KMS destroyed → restore → unseal 3 of 5 → host restart', () => {
  it('every encrypted VM unlocks and its guest reads back what it wrote; too few shares stay sealed; a corrupted backup changes nothing', async () => {
    const policyId = (await api().get<{ policies: Array<{ id: string; name: string }> }>('/api/policies')).policies.find((p) => p.name === 'VM Encryption Policy')?.id;
    const datastoreId = await datastoreOf(api(), 'esx1-local');
    for (const name of ['db', 'web']) vmIds.push(await createVm(api(), { name, hostId, datastoreId, ...(policyId === undefined ? {} : { policyId }), disks: [4 << 20] }));
    const host = await hostClient();
    for (const id of vmIds) {
      expect((await vmOf(id)).observed).toMatchObject({ encrypted: true, locked: false });
      await powerOn(id);
      await writeGuestData(host, id);
      expect(await guestDataIntact(host, id)).toBe(true);
    }

    // The backup, taken while the KMS serves.
    const backup = join(root, 'offsite', 'kms.backup');
    await run('mkdir', ['-p', join(root, 'offsite')]);
    await vmcrypt('kms', 'backup', '--data', join(root, 'site-a', 'kms'), '--out', backup);

    // The disaster: the KMS process and everything it had on disk.
    await kmsProc?.kill();
    await rm(join(root, 'site-a'), { recursive: true, force: true });

    // A corrupted copy is refused before anything is written.
    const bytes = await readFile(backup);
    const at = bytes.indexOf('"type":"record"') + 40;
    const bad = Buffer.from(bytes);
    bad[at] = (bad[at] ?? 0) ^ 0x01;
    await writeFile(join(root, 'offsite', 'bad.backup'), bad);
    const newDir = join(root, 'site-b', 'kms');
    const three = ['--share', shares[1]!, '--share', shares[3]!, '--share', shares[4]!];
    const refused = await vmcrypt('kms', 'restore', '--in', join(root, 'offsite', 'bad.backup'), '--data', newDir, ...three).then(() => undefined, (e: { stderr: string }) => e.stderr);
    expect(refused).toMatch(/BACKUP_INVALID/);
    expect(await exists(newDir)).toBe(false);

    // Restore onto a new data directory; the new KMS starts sealed on the address the manager knows.
    await vmcrypt('kms', 'restore', '--in', backup, '--data', newDir, ...three);
    kmsProc = await serveKms(newDir);
    const tls = await managerTls(newDir);
    const kek = (await vmOf(vmIds[0]!)).observed.keys[0]?.key.keyId ?? '';
    expect(await getKey(kmsPort, tls, kek)).toMatch(/sealed/i);

    // Two shares are not enough: still sealed, still no key.
    const two = await vmcrypt('kms', 'unseal', '--data', newDir, '--share', shares[0]!, '--share', shares[3]!).then((r) => r.stdout, (e: { code: number; stdout: string }) => `${e.code} ${e.stdout}`);
    expect(two).toMatch(/^2 [\s\S]*sealed \(2 of 3 shares entered\)/);
    expect(await getKey(kmsPort, tls, kek)).toMatch(/sealed/i);
    const third = await vmcrypt('kms', 'unseal', '--data', newDir, '--share', shares[2]!);
    expect(third.stdout.trim()).toBe('unsealed');

    // The host "reboots": its key cache is empty; the manager fetches every KEK from the restored KMS.
    const before = await lastEventId(api());
    await agent.proc.kill();
    agent = await startAgent(join(root, 'esx1'), 'esx1', agent.port);
    const after = await hostClient();
    for (const id of vmIds) {
      await waitFor(`${id} unlocked`, async () => (await eventsOf(api(), before, 'vm.unlocked')).some((e) => e.entity?.id === id), 90_000);
      await powerOn(id);
      expect(await guestDataIntact(after, id)).toBe(true);
    }
  }, 600_000);
});
