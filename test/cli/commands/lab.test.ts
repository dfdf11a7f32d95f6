import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot, vmcryptArgv } from '../../helpers/cli.js';
import { startProcess, stopAll } from '../../helpers/process.js';
import { ManagerApi } from '../../manager/helpers/manager-api.js';
import { restartLabHost } from '../../../src/cli/lab/control.js';
import { readProfile } from '../../../src/cli/profile-file.js';
import { readLabState } from '../../../src/cli/lab/state.js';
import { waitFor as pollUntil } from '../../helpers/wait.js';

/**
 * The lab as a user starts it: `vmcrypt lab up` as a child process (free ports), then checked
 * through the manager's API with the token of DIR/profile.json. Each start costs seconds on a
 * shared machine, so one lab directory goes through the whole story.
 */
const run = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), 'vmcrypt-lab-'));
const dir = join(root, 'lab');
const START_MS = 240_000;

afterAll(async () => {
  await stopAll();
  rmSync(root, { recursive: true, force: true });
});

interface Host { id: string; name: string; connectionState: string; clusterId?: string }
interface Vm { id: string; name: string; observed: { encrypted: boolean; locked: boolean; keys: Array<{ part: string; key: { providerId: string; keyId: string } }> } }
interface Ev { id: number; type: string; entity?: { kind: string; id: string } }

/** Exited, or a zombie nobody reaped yet (dead all the same). */
function gone(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** Waits on the lab's processes, polling every 200 ms. */
const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> => pollUntil(what, fn, timeoutMs, 200);

async function profileApi(): Promise<ManagerApi> {
  const p = await readProfile(join(dir, 'profile.json'));
  return new ManagerApi(p.managerUrl, p.thumbprint, p.token);
}

const unlockedAfter = (api: ManagerApi, vmId: string, afterId: number) =>
  waitFor(`vm.unlocked of ${vmId}`, async () => (await api.get<Ev[]>(`/api/events?afterId=${afterId}&type=vm.unlocked&limit=1000`)).find((e) => e.entity?.id === vmId), 90_000);
const lastEventId = async (api: ManagerApi) => (await api.get<Ev[]>('/api/events?limit=1')).at(-1)?.id ?? 0;

let encVmId = '';
let encKeyId = '';
let profileToken = '';

describe('vmcrypt lab', () => {
  it('up: KMS as default provider with trust, two hosts in one HA cluster with a shared datastore, a demo VM, a 0600 profile that works; restartLabHost; SIGINT stops every process', async () => {
    const lab = await startProcess(process.execPath, [...vmcryptArgv(), 'lab', 'up', '--dir', dir, '--free-ports'], {
      cwd: repoRoot, ready: /Ctrl-C stops the lab/, readyTimeoutMs: START_MS,
    });
    expect(lab.output()).toMatch(/console\s+https:\/\/127\.0\.0\.1:\d+\//);
    expect(lab.output()).toContain(`(kept in ${join(dir, 'manager', 'initial-admin-password')})`);
    expect(lab.output()).toContain(join(dir, 'profile.json'));

    expect(statSync(join(dir, 'profile.json')).mode & 0o777).toBe(0o600);
    const api = await profileApi();
    profileToken = (await readProfile(join(dir, 'profile.json'))).token;
    expect((await api.get<{ user: string }>('/api/session')).user).toBe('admin');

    const { providers } = await api.get<{ providers: Array<{ id: string; isDefault: boolean; trust: { trustedServerCerts: unknown[]; clientIdentity: unknown } }> }>('/api/key-providers');
    expect(providers).toHaveLength(1);
    expect(providers[0]).toMatchObject({ id: 'lab-kms', isDefault: true });
    expect(providers[0]?.trust.trustedServerCerts.length).toBe(1);
    expect(providers[0]?.trust.clientIdentity).not.toBeNull();
    expect((await api.post<{ color: string }>('/api/key-providers/lab-kms/health')).color).toBe('green');

    const { hosts } = await api.get<{ hosts: Host[] }>('/api/hosts');
    expect(hosts.map((h) => h.name).sort()).toEqual(['host-1', 'host-2']);
    expect(hosts.every((h) => h.connectionState === 'connected')).toBe(true);
    const { clusters } = await api.get<{ clusters: Array<{ id: string; name: string; ha: boolean }> }>('/api/clusters');
    expect(clusters).toEqual([expect.objectContaining({ name: 'lab-cluster', ha: true })]);
    expect(hosts.every((h) => h.clusterId === clusters[0]?.id)).toBe(true);
    const { datastores } = await api.get<{ datastores: Array<{ id: string; name: string; path: string; hosts: unknown[] }> }>('/api/datastores');
    const shared = datastores.find((d) => d.name === 'shared');
    expect(shared).toMatchObject({ path: join(dir, 'shared') });
    expect(shared?.hosts).toHaveLength(2);
    const { vms } = await api.get<{ vms: Vm[] }>('/api/vms');
    expect(vms.find((v) => v.name === 'demo')?.observed.encrypted).toBe(false);

    // An encrypted VM on host-1 (the built-in VM Encryption Policy, keys from the lab's KMS).
    const { policies } = await api.get<{ policies: Array<{ id: string; name: string }> }>('/api/policies');
    const host1 = hosts.find((h) => h.name === 'host-1') as Host;
    const r = await api.post<{ task: { id: string } }>('/api/vms', {
      name: 'enc', hostId: host1.id, datastoreId: shared?.id, policyId: policies.find((p) => p.name === 'VM Encryption Policy')?.id, disks: [{ sizeBytes: 1 << 20 }],
    });
    const t = await api.waitTask<{ result?: { vmId: string } }>(r.task.id);
    expect(t.state).toBe('success');
    encVmId = t.result?.vmId ?? '';
    const enc = await api.get<Vm>(`/api/vms/${encVmId}`);
    expect(enc.observed).toMatchObject({ encrypted: true, locked: false });
    encKeyId = enc.observed.keys[0]?.key.keyId ?? '';
    expect(encKeyId).not.toBe('');

    // restartLabHost: the agent comes back with an empty key cache; the manager unlocks the VM.
    const before = (await readLabState(dir))?.run?.children.find((c) => c.name === 'host-1')?.pid;
    const since = await lastEventId(api);
    const back = await restartLabHost(dir, 'host-1');
    expect(back.pid).not.toBe(before);
    expect(gone(before ?? 0)).toBe(true);
    await unlockedAfter(api, encVmId, since);
    await expect(restartLabHost(dir, 'host-9')).rejects.toMatchObject({ code: 'LAB_CONTROL_FAILED' });

    const pids = ((await readLabState(dir))?.run?.children ?? []).map((c) => c.pid ?? 0);
    expect(pids).toHaveLength(4);
    lab.child.kill('SIGINT');
    await new Promise((res) => lab.child.once('exit', res));
    for (const pid of pids) expect(gone(pid), `pid ${pid}`).toBe(true);
    expect((await readLabState(dir))?.run).toBeUndefined();
  }, 600_000);

  it('up again (--detach) reuses the data: same provider, same token, the encrypted VM unlocks by itself; down stops it', async () => {
    const { stdout } = await run(process.execPath, [...vmcryptArgv(), 'lab', 'up', '--dir', dir, '--free-ports', '--detach', '--json'], { cwd: repoRoot, timeout: START_MS });
    const info = JSON.parse(stdout) as { pid: number; consoleUrl: string };
    expect(info.pid).toBeGreaterThan(1);
    const api = await profileApi();
    expect((await readProfile(join(dir, 'profile.json'))).token).toBe(profileToken);
    expect((await api.get<{ providers: unknown[] }>('/api/key-providers')).providers).toHaveLength(1);
    expect((await api.get<{ vms: Vm[] }>('/api/vms')).vms.map((v) => v.name).sort()).toEqual(['demo', 'enc']);
    const vm = await waitFor('enc unlocked', async () => {
      const v = await api.get<Vm>(`/api/vms/${encVmId}`);
      return v.observed.locked ? undefined : v;
    }, 90_000);
    expect(vm.observed.keys[0]?.key.keyId).toBe(encKeyId);

    const pids = ((await readLabState(dir))?.run?.children ?? []).map((c) => c.pid ?? 0);
    await run(process.execPath, [...vmcryptArgv(), 'lab', 'down', '--dir', dir], { cwd: repoRoot, timeout: 90_000 });
    expect(gone(info.pid)).toBe(true);
    for (const pid of pids) await waitFor(`pid ${pid} gone`, async () => gone(pid), 10_000);
    await expect(run(process.execPath, [...vmcryptArgv(), 'lab', 'down', '--dir', dir], { cwd: repoRoot })).rejects.toMatchObject({ stderr: expect.stringMatching(/LAB_NOT_RUNNING/) });
  }, 600_000);
});
