// npm run bench:migrate — live migration of one running VM (guest RAM filled with random
// bytes) between two real host agents over loopback: plain, our sealed tunnel (AES-256-GCM
// frames between the agents) and QEMU's TLS with the one-time key as PSK (qemu-psk), several
// rounds each, ping-pong A ⇄ B; plus QEMU's own x509 TLS (tls-creds-x509, certificates from
// src/pki) between two bare QEMUs with the same machine and RAM, which is no agent channel.
// Last line: RESULT migrate ours=<MB/s of the agents' default encrypted channel: the tunnel when
// its native relay is built, else qemu-psk> peer=<plain MB/s> ratio=<ours/plain> qemu_tls=<x509 MB/s> downtime_ms=<median, ours>
// BENCH_QUICK=1: 256 MiB of RAM, 2 rounds (< 1 min); otherwise 1 GiB, 3 rounds. MB = 10^6 bytes.
// BENCH_CHANNELS=tunnel,plain: only those agent channels (and x509 only when listed), for profiling.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HostClient, type MigrationChannelName } from '../src/host/client/host-client.js';
import { nativeRelay } from '../src/host/migration/relay-native.js';
import { buildQemuArgv } from '../src/host/qemu/qemu-argv.js';
import { QmpClient } from '../src/host/qemu/qmp.js';
import { listenIncoming, MULTIFD_CHANNELS, queryMigration, setMigrationParameters } from '../src/host/qemu/migrate-qmp.js';
import { createCa, createSelfSigned, issueCertificate } from '../src/pki/index.js';

const quick = process.env['BENCH_QUICK'] === '1';
const ramMiB = quick ? 256 : 1024;
const rounds = quick ? 2 : 3;
const root = join(fileURLToPath(import.meta.url), '..', '..');
const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const dir = await mkdtemp(join(base, 'vmcrypt-bench-migrate-'));
const children: ChildProcess[] = [];
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Agent {
  readonly c: HostClient;
  readonly ramDir: string;
  readonly pid: number;
}

/**
 * CPU seconds of a process from /proc/PID/stat: its own (utime + stime) and, with `children`,
 * those of the children it has reaped (an agent reaps the QEMUs it stopped).
 */
async function cpuOf(pid: number, children = false): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  // fields 14–17 of stat (utime stime cutime cstime) are 11–14 here (after pid and comm)
  const t = (f[11] ?? 0) + (f[12] ?? 0) + (children ? (f[13] ?? 0) + (f[14] ?? 0) : 0);
  return t / 100;
}

async function startAgent(name: string, id: { certPem: string; keyPem: string }): Promise<Agent> {
  const data = join(dir, name);
  const ramDir = join(dir, `${name}-ram`);
  await mkdir(ramDir);
  // BENCH_PROF=DIR: V8 CPU profiles of the agents written there when they stop
  const prof = process.env['BENCH_PROF'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', process.env['BENCH_PROF']];
  const child = spawn(process.execPath, [...prof, '--import', 'tsx', join(root, 'src', 'cli', 'run.ts'), 'host', 'serve', '--data', data, '--name', name, '--listen', '127.0.0.1:0', '--allow-crash'], {
    cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, VMCRYPT_TEST_RAM_DIR: ramDir },
  });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 120_000;
  let m: RegExpExecArray | null = null;
  while ((m = /listening on (\S+) thumbprint=([0-9a-f]{64})/.exec(out)) === null) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`agent ${name} did not start: ${out}`);
    await sleep(100);
  }
  const c = new HostClient({ url: m[1] ?? '', certPem: id.certPem, keyPem: id.keyPem, thumbprint: m[2] ?? '' });
  await c.call('POST', '/v1/pair', { token: (await readFile(join(data, 'pairing-token'), 'utf8')).trim() });
  return { c, ramDir, pid: child.pid ?? 0 };
}

async function fillRandom(path: string, offset: number, bytes: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    for (let off = 0; off < bytes; off += 16 << 20) await fh.write(randomBytes(Math.min(16 << 20, bytes - off)), 0, undefined, offset + off);
  } finally {
    await fh.close();
  }
}

interface Run {
  readonly mbPerSec: number;
  readonly downtimeMs: number;
  readonly bytes: number;
  /** CPU seconds spent by both agents and both QEMUs on this migration. */
  readonly cpuSeconds: number;
  /** Of which the two agents' own (their relay threads included; 0 for the bare x509 pair). */
  readonly agentCpuSeconds: number;
}

/** Agent channels: destination first, then the source, as the manager does. */
async function agentMigration(from: Agent, to: Agent, uuid: string, vmx: string, channel: MigrationChannelName): Promise<Run> {
  const migrationId = randomUUID();
  const k = channel === 'plain' ? {} : { key: randomBytes(32), nonce: randomBytes(8) };
  const srcQemu = (await from.c.call<{ qemuPid?: number }>('GET', `/v1/vms/${uuid}`)).qemuPid ?? 0;
  const agentsBefore = (await cpuOf(from.pid)) + (await cpuOf(to.pid));
  const before = (await cpuOf(from.pid, true)) + (await cpuOf(to.pid, true)) + (await cpuOf(srcQemu));
  const inc = await to.c.migrationIncoming({ migrationId, vmId: uuid, vmxPath: vmx, channel, ...k });
  const r = await from.c.migrateVm(uuid, { migrationId, endpoint: inc.endpoint, channel, ...k });
  const dstQemu = (await to.c.call<{ qemuPid?: number }>('GET', `/v1/vms/${uuid}`)).qemuPid ?? 0;
  // the source QEMU was reaped by its agent (its whole life is in the agent's children time)
  const after = (await cpuOf(from.pid, true)) + (await cpuOf(to.pid, true)) + (await cpuOf(dstQemu));
  const agentsAfter = (await cpuOf(from.pid)) + (await cpuOf(to.pid));
  k.key?.fill(0);
  return { mbPerSec: r.mbPerSec, downtimeMs: r.downtimeMs, bytes: r.bytes, cpuSeconds: after - before, agentCpuSeconds: agentsAfter - agentsBefore };
}

/** QEMU's x509 TLS between two bare QEMUs (same machine and RAM file as the agents' VM). */
async function x509Runs(n: number): Promise<Run[]> {
  const ca = await createCa({ commonName: 'bench-migration-ca' });
  const server = await issueCertificate({ ca, commonName: '127.0.0.1', usage: 'server', ipAddresses: ['127.0.0.1'] });
  const client = await issueCertificate({ ca, commonName: 'bench-migration-client', usage: 'client' });
  const sdir = join(dir, 'x509-server');
  const cdir = join(dir, 'x509-client');
  await mkdir(sdir);
  await mkdir(cdir);
  await writeFile(join(sdir, 'ca-cert.pem'), ca.certPem);
  await writeFile(join(sdir, 'server-cert.pem'), server.certPem);
  await writeFile(join(sdir, 'server-key.pem'), server.keyPem, { mode: 0o600 });
  await writeFile(join(cdir, 'ca-cert.pem'), ca.certPem);
  await writeFile(join(cdir, 'client-cert.pem'), client.certPem);
  await writeFile(join(cdir, 'client-key.pem'), client.keyPem, { mode: 0o600 });
  const x509Uuid = randomUUID();
  const start = async (i: number, incoming: boolean): Promise<{ qmp: QmpClient; child: ChildProcess; ram: string }> => {
    const ram = join(dir, `x509-${i}.ram`);
    const qmpSocket = join(dir, `x509-${i}.qmp`);
    // one uuid for every QEMU of the VM: multifd channels check it, as the agents' QEMUs share the VM's
    const { argv } = buildQemuArgv({ uuid: x509Uuid, name: `x509-${i}`, memoryMiB: ramMiB, disks: [], qmpSocket, memoryFile: ram, incoming });
    const child = spawn('qemu-system-x86_64', argv, { stdio: 'ignore' });
    children.push(child);
    for (let t = 0; ; t++) {
      try {
        const qmp = await QmpClient.connect(qmpSocket);
        // both roles: a destination becomes the next round's source
        await qmp.execute('object-add', { 'qom-type': 'tls-creds-x509', id: 'tls-server', endpoint: 'server', dir: sdir, 'verify-peer': true });
        await qmp.execute('object-add', { 'qom-type': 'tls-creds-x509', id: 'tls-client', endpoint: 'client', dir: cdir });
        return { qmp, child, ram };
      } catch (err) {
        if (t > 200) throw err;
        await sleep(50);
      }
    }
  };
  let src = await start(0, false);
  await src.qmp.execute('cont').catch(() => undefined);
  await sleep(300);
  await fillRandom(src.ram, 16 << 20, (ramMiB - 32) << 20);
  const runs: Run[] = [];
  for (let i = 1; i <= n; i++) {
    const dst = await start(i, true);
    // the same settings as the agents' qemu-psk channel (multifd streams included)
    await setMigrationParameters(dst.qmp, 'tls-server', true, MULTIFD_CHANNELS);
    const port = await listenIncoming(dst.qmp, 'tcp:127.0.0.1:0');
    await setMigrationParameters(src.qmp, 'tls-client', false, MULTIFD_CHANNELS);
    // QEMU 7.2's multifd channels check the server certificate against tls-hostname only
    await src.qmp.execute('migrate-set-parameters', { 'tls-hostname': '127.0.0.1' });
    const srcPid = src.child.pid ?? 0;
    const before = await cpuOf(srcPid);
    const t0 = performance.now();
    await src.qmp.execute('migrate', { uri: `tcp:127.0.0.1:${port ?? 0}` });
    let st = await queryMigration(src.qmp);
    while (st.status !== 'completed') {
      if (st.status === 'failed' || st.status === 'cancelled') throw new Error(`x509 migration ${st.status}: ${st.error ?? ''}`);
      await sleep(50);
      st = await queryMigration(src.qmp);
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpuSeconds = (await cpuOf(srcPid)) - before + (await cpuOf(dst.child.pid ?? 0));
    runs.push({ mbPerSec: st.transferred / seconds / 1e6, downtimeMs: st.downtimeMs, bytes: st.transferred, cpuSeconds, agentCpuSeconds: 0 });
    src.child.kill('SIGKILL');
    await rm(src.ram, { force: true });
    await dst.qmp.execute('cont');
    src = dst;
  }
  src.child.kill('SIGKILL');
  return runs;
}

try {
  const id = await createSelfSigned({ commonName: 'bench-manager', usage: 'client' });
  const a = await startAgent('esx-a', id);
  const b = await startAgent('esx-b', id);
  const shared = join(dir, 'shared');
  await mkdir(shared);
  for (const h of [a, b]) await h.c.call('POST', '/v1/datastores', { name: 'shared', path: shared });
  const vm = await a.c.call<{ uuid: string; vmx: string }>('POST', '/v1/vms', { name: 'bench', datastore: 'shared', memoryMiB: ramMiB, disks: [{ sizeBytes: 16 << 20 }] });
  await a.c.call('POST', `/v1/vms/${vm.uuid}/power`, { action: 'on' });
  await sleep(300);
  // random bytes in all RAM but the first and last 16 MiB (BIOS areas): nothing compresses or is a zero page
  await fillRandom(join(a.ramDir, `${vm.uuid}.ram`), 16 << 20, (ramMiB - 32) << 20);
  const only = process.env['BENCH_CHANNELS']?.split(',');
  const channels = (['plain', 'tunnel', 'qemu-psk'] as MigrationChannelName[]).filter((c) => only === undefined || only.includes(c));
  const results = new Map<string, Run[]>(channels.map((c) => [c, []]));
  let here = a;
  let there = b;
  for (let r = 0; r < rounds; r++) {
    // the order rotates each round, so no channel always runs right after the tunnel's heavy round
    for (const ch of channels.map((_, i) => channels[(i + r) % channels.length] ?? 'plain')) {
      const run = await agentMigration(here, there, vm.uuid, vm.vmx, ch);
      results.get(ch)?.push(run);
      console.log(`round ${r + 1} ${ch.padEnd(8)} ${run.mbPerSec.toFixed(1)} MB/s  downtime ${run.downtimeMs} ms  ${(run.bytes / 1e6).toFixed(0)} MB  ${run.cpuSeconds.toFixed(2)} CPU-s (agents ${run.agentCpuSeconds.toFixed(2)})`);
      [here, there] = [there, here];
    }
  }
  await here.c.call('POST', `/v1/vms/${vm.uuid}/power`, { action: 'off' });
  const x509 = only === undefined || only.includes('x509') ? await x509Runs(rounds) : [];
  x509.forEach((run, i) => console.log(`round ${i + 1} x509     ${run.mbPerSec.toFixed(1)} MB/s  downtime ${run.downtimeMs} ms  ${(run.bytes / 1e6).toFixed(0)} MB  ${run.cpuSeconds.toFixed(2)} CPU-s`));
  // load-independent: MB moved per CPU-second of every process involved (on a busy machine
  // the MB/s above mostly say how much CPU each process got)
  const perCpu = (runs: Run[]): string => median(runs.map((r) => r.bytes / 1e6 / Math.max(r.cpuSeconds, 0.01))).toFixed(0);
  console.log(`MB per CPU-second: plain ${perCpu(results.get('plain') ?? [])}  tunnel ${perCpu(results.get('tunnel') ?? [])}  qemu-psk ${perCpu(results.get('qemu-psk') ?? [])}  qemu x509 ${perCpu(x509)}`);
  const perGib = (runs: Run[]): string => {
    const all = median(runs.map((r) => r.cpuSeconds / (r.bytes / 2 ** 30)));
    return `${all.toFixed(2)} (agents ${median(runs.map((r) => r.agentCpuSeconds / (r.bytes / 2 ** 30))).toFixed(2)})`;
  };
  console.log(`CPU-s per GiB, all processes (agents' own): plain ${perGib(results.get('plain') ?? [])}  tunnel ${perGib(results.get('tunnel') ?? [])}  qemu-psk ${perGib(results.get('qemu-psk') ?? [])}  qemu x509 ${perGib(x509)}`);
  const med = (ch: string, f: (r: Run) => number): number => median((results.get(ch) ?? []).map(f));
  // ours = the encrypted channel the agents offer first (host-migrations.ts capability()): the
  // tunnel when the native relay is built (the agents load the same build/Release), else qemu-psk
  const oursCh = nativeRelay().addon !== undefined && process.env['VMCRYPT_RELAY'] !== 'node' ? 'tunnel' : 'qemu-psk';
  const ours = med(oursCh, (r) => r.mbPerSec);
  const peer = med('plain', (r) => r.mbPerSec);
  const psk = med('qemu-psk', (r) => r.mbPerSec);
  const tunnel = med('tunnel', (r) => r.mbPerSec);
  const tls = median(x509.map((r) => r.mbPerSec));
  console.log(`guest RAM ${ramMiB} MiB random, ${rounds} rounds, medians; ${cpus().length} CPUs, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`plain ${peer.toFixed(1)} MB/s  qemu-psk ${psk.toFixed(1)} MB/s  tunnel ${tunnel.toFixed(1)} MB/s (downtime ${med('tunnel', (r) => r.downtimeMs)} ms)  qemu x509 ${tls.toFixed(1)} MB/s; ours = ${oursCh}`);
  console.log(`RESULT migrate ours=${ours.toFixed(1)} peer=${peer.toFixed(1)} ratio=${(ours / peer).toFixed(2)} qemu_tls=${tls.toFixed(1)} downtime_ms=${med(oursCh, (r) => r.downtimeMs)}`);
} finally {
  for (const c of children) c.kill('SIGTERM');
  await sleep(500);
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
}
