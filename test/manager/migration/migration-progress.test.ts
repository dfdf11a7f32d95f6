import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeProfile } from '../../../src/cli/profile-file.js';
import { jsonOf, runCli } from '../../cli/manager/run-cli.js';
import { vmcryptArgv } from '../../helpers/cli.js';
import { freePort } from '../../helpers/net.js';
import { startProcess, stopAll } from '../../helpers/process.js';
import { waitFor } from '../../helpers/wait.js';
import { addHostToManager, type AgentProcess } from '../helpers/host-agents.js';
import type { ManagerApi } from '../helpers/manager-api.js';
import { startManagerProcess, type ManagerProcess } from '../helpers/manager-process.js';
import { createVm, eventsOf, lastEventId } from '../vm-ops/lab.js';
import { capNextMigration, sideMonitorQemu } from './migration-throttle.js';

/**
 * What the operator sees while a VM moves (issue 14, task progress): one manager, two real host
 * agents running QEMU on a shared directory, guest RAM in files the test fills with random bytes
 * (zero pages would cost QEMU nothing to send). The source QEMU's bandwidth is capped through a
 * second QMP monitor of the test's (migration-throttle.ts), so a move lasts seconds on any
 * machine: the task is read while the stream runs, not only at its end. No timing is asserted.
 */
const RAM_OFFSET = 16 << 20;
const RAM_LENGTH = 48 << 20;
/** 12 MiB/s: the 48 MiB of random RAM take about 4 s, read by the manager every 500 ms. */
const CAP = 12 << 20;

type Agent = AgentProcess & { ramDir: string; qmpDir: string };
interface Task {
  id: string; state: string; percent: number; bytesDone?: number; bytesTotal?: number; rate?: number; message?: string;
  result?: { mode: string; encrypted: boolean; channel?: string; bytes: number; downtimeMs: number; hostId: string };
  error?: { code: string; message: string };
}

let root = '';
let manager: ManagerProcess;
const agents: Record<string, Agent> = {};
const hostIds: Record<string, string> = {};
let vmId = '';
const api = (): ManagerApi => manager.admin;

async function startAgent(name: string): Promise<Agent> {
  const port = await freePort();
  const ramDir = await mkdtemp('/dev/shm/vmcrypt-migprog-');
  const qmpDir = join(root, `${name}-qmp`);
  const env = { ...process.env, VMCRYPT_QEMU: await sideMonitorQemu(qmpDir), VMCRYPT_TEST_RAM_DIR: ramDir };
  const ready = /listening on (\S+) thumbprint=([0-9a-f]{64})/;
  const proc = await startProcess(process.execPath, [...vmcryptArgv(), 'host', 'serve', '--data', join(root, name), '--name', name, '--listen', `127.0.0.1:${port}`, '--allow-crash'], {
    ready, readyTimeoutMs: 60_000, env,
  });
  const m = ready.exec(proc.output());
  const t = /pairing token[^:]*\): ([0-9a-f]{32})/.exec(proc.output());
  return { proc, url: m?.[1] ?? '', thumbprint: m?.[2] ?? '', pairingToken: t?.[1], ramDir, qmpDir };
}

async function ramFile(host: string, fill?: Buffer): Promise<Buffer> {
  const fh = await open(join(agents[host]?.ramDir ?? '', `${vmId}.ram`), fill === undefined ? 'r' : 'r+');
  try {
    if (fill !== undefined) await fh.write(fill, 0, fill.length, RAM_OFFSET);
    const b = Buffer.alloc(RAM_LENGTH);
    await fh.read(b, 0, RAM_LENGTH, RAM_OFFSET);
    return b;
  } finally {
    await fh.close();
  }
}

/** Every state of the task from its start to its end, read as an operator's console would. */
async function watch(taskId: string): Promise<Task[]> {
  const seen: Task[] = [];
  for (;;) {
    const t = await api().get<Task>(`/api/tasks/${taskId}`);
    seen.push(t);
    if (t.state === 'success' || t.state === 'error') return seen;
    await sleep(100);
  }
}

/** `vmcrypt ARGS` on a pseudo-terminal (util-linux `script`): what a person at a terminal sees. */
function runOnTty(args: readonly string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  const q = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;
  // a pseudo-terminal starts 0 columns wide; a person's terminal has a size
  const command = `stty cols 160 rows 40; exec ${[process.execPath, ...vmcryptArgv(), ...args].map(q).join(' ')}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, out })));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vmcrypt-migprog-'));
  await mkdir(join(root, 'shared'));
  const [m, a1, a2] = await Promise.all([startManagerProcess(join(root, 'manager'), { pollMs: 300, keyRetryMs: 300 }), startAgent('esx1'), startAgent('esx2')]);
  manager = m;
  Object.assign(agents, { esx1: a1, esx2: a2 });
  for (const n of ['esx1', 'esx2']) hostIds[n] = (await addHostToManager(api(), agents[n] as Agent)).id;
  const ds = await api().post<{ id: string }>('/api/datastores', { name: 'shared', path: join(root, 'shared'), hostIds: Object.values(hostIds) });
  vmId = await createVm(api(), { name: 'prog-vm', hostId: hostIds['esx1'] ?? '', datastoreId: ds.id, disks: [1 << 20] });
  await api().post(`/api/vms/${vmId}/power-on`);
}, 120_000);

afterAll(async () => {
  await stopAll();
  for (const a of Object.values(agents)) await rm(a.ramDir, { recursive: true, force: true });
  if (root !== '') await rm(root, { recursive: true, force: true });
});

describe('migration progress as the operator sees it', () => {
  it('the task shows bytes rising with a rate and what remains while the VM moves, then the downtime; RAM arrives whole', async () => {
    const pattern = await ramFile('esx1', randomBytes(RAM_LENGTH));
    const cap = await capNextMigration(agents['esx1']?.qmpDir ?? '', vmId, CAP);
    const before = await lastEventId(api());
    try {
      const started = await api().post<{ id: string }>(`/api/vms/${vmId}/migrate`, { host: 'esx2' });
      const seen = await watch(started.id);
      await cap.capped();
      const end = seen.at(-1);
      expect(end?.state, JSON.stringify(end?.error)).toBe('success');
      expect(end?.result).toMatchObject({ mode: 'live', encrypted: true, hostId: hostIds['esx2'] });
      const total = end?.result?.bytes ?? 0;
      expect(total).toBeGreaterThan(RAM_LENGTH);

      // while the stream ran: bytes between 0 and the final count, rising; a rate; what remains
      const streaming = seen.filter((t) => t.state === 'running' && (t.message ?? '').startsWith('migrating memory'));
      const bytes = streaming.map((t) => t.bytesDone ?? -1);
      expect(bytes.filter((b) => b > 0 && b < total).length, JSON.stringify(streaming)).toBeGreaterThanOrEqual(2);
      expect(new Set(bytes).size).toBeGreaterThanOrEqual(2);
      expect(bytes).toEqual([...bytes].sort((a, b) => a - b));
      for (const t of streaming) {
        expect(t.bytesTotal).toBeGreaterThan(0);
        expect(t.rate).toBeGreaterThan(0);
        expect(t.message).toMatch(/^migrating memory, \d+\.\d MB\/s, \d+ MiB remaining$/);
        expect(t.percent).toBeGreaterThanOrEqual(10);
        expect(t.percent).toBeLessThanOrEqual(95);
      }
      const pcts = streaming.map((t) => t.percent);
      expect(pcts).toEqual([...pcts].sort((a, b) => a - b));
      expect(Math.max(...pcts)).toBeGreaterThan(Math.min(...pcts));

      // at the end: the downtime, in the result, the task's last words and the event
      expect(end?.result?.downtimeMs).toBeGreaterThanOrEqual(0);
      expect(end?.message).toMatch(/^migrated \d+ MiB at \d+\.\d MB\/s, downtime \d+ ms$/);
      const ev = (await eventsOf(api(), before, 'vm.migrated'))[0];
      expect(ev?.data).toMatchObject({ mode: 'live', bytes: total, downtimeMs: end?.result?.downtimeMs });
      expect((await ramFile('esx2')).equals(pattern)).toBe(true);
    } finally {
      cap.close();
    }
  }, 120_000);

  it('vmcrypt vm move draws a progress bar from those figures on a terminal; --json prints the final task', async () => {
    const profile = join(root, 'profile.json');
    await writeProfile(profile, { version: 1, managerUrl: manager.url, thumbprint: manager.thumbprint, token: manager.admin.token ?? '' });
    const cap = await capNextMigration(agents['esx2']?.qmpDir ?? '', vmId, CAP);
    let tty: { code: number; out: string };
    try {
      tty = await runOnTty(['vm', 'move', 'prog-vm', '--host', 'esx1'], { VMCRYPT_PROFILE: profile });
      await cap.capped();
    } finally {
      cap.close();
    }
    expect(tty.code, tty.out).toBe(0);
    // redrawn in place: several \r-lines with a bar, bytes per second and what remains
    const bars = tty.out.split('\r').filter((l) => /^move prog-vm \[[#-]+\] +\d+%/.test(l));
    const streaming = bars.filter((l) => /\d (Ki|Mi|Gi)?B\/s {2}ETA \d\d:\d\d {2}migrating memory, \d+\.\d MB\/s, \d+ MiB remaining/.test(l));
    expect(streaming.length, tty.out).toBeGreaterThanOrEqual(2);
    expect(bars.at(-1)).toMatch(/\[#+\] 100%/);
    expect(tty.out).toMatch(/moved prog-vm to host esx1 \(live, encrypted over (qemu-psk|tunnel), \d+ MiB at \d+\.\d MB\/s, downtime \d+ ms\)/);

    const doc = jsonOf<Task & { task: string }>(await runCli(['vm', 'move', 'prog-vm', '--host', 'esx2', '--json'], { VMCRYPT_PROFILE: profile }));
    expect(doc).toMatchObject({ state: 'success', percent: 100, result: { mode: 'live', hostId: hostIds['esx2'] } });
    expect(doc.task).toBe(doc.id);
    expect(doc.bytesDone).toBeGreaterThan(0);
    expect(typeof doc.result?.downtimeMs).toBe('number');
    await waitFor('the VM on esx2', async () => (await api().get<{ hostId: string }>(`/api/vms/${vmId}`)).hostId === hostIds['esx2'], 10_000);
  }, 120_000);
});
