// npm run bench:unlock — unlock after a power cut: every host agent restarts with an empty key
// cache and the manager's key management refetches every KEK by id (KMIP batches) and pushes
// them back (≤ 256 per request, in parallel). Real processes: `vmcrypt kms serve` and one
// `vmcrypt host serve` per host; the manager's key management (createKeyService over a real
// platform database) runs in this process, so this process's RSS is the manager's.
// BENCH_QUICK=1: 1 host × 1,000 VMs. Full: that, then 10 hosts × 4,500 VMs (45,000).
// Last line: RESULT unlock ours=<s, quick size> vms=<n> full_s=<s for 45,000 | NA> kms_gets_per_s=<n> manager_rss_mb=<n>
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { X509Certificate, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createServer } from 'node:net';
import pino from 'pino';
import { HostClient } from '../src/host/client/host-client.js';
import { encodeVmx, VMX_FORMAT } from '../src/host/vm-files/vmx.js';
import { generateDek, wrapDekFor } from '../src/host/vm-files/vm-crypto.js';
import { KeyProvider } from '../src/keyprovider/index.js';
import { activateCall, createKeyCall, getKeyCall } from '../src/kmip/client/index.js';
import type { HostRecord, InventoryView, VmRecord } from '../src/manager/contracts.js';
import { openDatabase } from '../src/manager/db/database.js';
import { createPlatform } from '../src/manager/platform/platform.js';
import { PLATFORM_MIGRATIONS } from '../src/manager/platform/migrations.js';
import { KEY_MIGRATIONS, createKeyService } from '../src/manager/keys/index.js';
import { fetchKeks } from '../src/manager/keys/kek-fetch.js';
import { issueClientCertificate } from '../src/kms/data-dir.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = ['--import', 'tsx', join(root, 'src', 'cli', 'run.ts')];
const run = promisify(execFile);
const quick = process.env['BENCH_QUICK'] === '1';
const PROVIDER = 'bench-kp';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a !== null && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** Every child this benchmark started: all are killed at the end, even after a failure. */
const children = new Set<ChildProcess>();

/** BENCH_PROF=DIR: the restarted agents run under `--cpu-prof` (profiles written into DIR on SIGTERM). */
const profDir = process.env['BENCH_PROF'];
/** BENCH_AGENT=tsx: host agents run from the TypeScript sources through tsx instead of compiled JS. */
const agentFromSources = process.env['BENCH_AGENT'] === 'tsx';

/**
 * The host agents run as installed: `vmcrypt` runs compiled JavaScript (bin/vmcrypt.js → dist/).
 * The sources are compiled here, file by file (esbuild, as tsx does on the fly; no bundling, no
 * type check), into a private directory under node_modules/.cache so that packages resolve; the
 * shared dist/ is not touched. Under tsx an agent spends ≈ 2.5 CPU-s loading modules before it
 * serves, which on a loaded machine is most of a restart (BENCH_AGENT=tsx shows it).
 */
async function compileSources(): Promise<{ run: string; dir: string }> {
  const { build } = await import('esbuild');
  const cache = join(root, 'node_modules', '.cache');
  await mkdir(cache, { recursive: true });
  const dir = await mkdtemp(join(cache, 'vmcrypt-bench-unlock-'));
  const src = join(root, 'src');
  const entryPoints = (await readdir(src, { recursive: true })).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).map((f) => join(src, f));
  await build({ entryPoints, outdir: join(dir, 'dist'), outbase: src, format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning' });
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
  return { run: join(dir, 'dist', 'cli', 'run.js'), dir };
}
let agentEntry: string[] = cli;

function startChild(args: string[], ready: RegExp, nodeArgs: readonly string[] = [], entry: readonly string[] = cli): Promise<{ child: ChildProcess; out: () => string }> {
  const child = spawn(process.execPath, [...nodeArgs, ...entry, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let out = '';
  return new Promise((resolve, reject) => {
    const on = (d: Buffer): void => {
      out += d.toString();
      if (out.length > 1 << 20) out = out.slice(-65536);
      if (ready.test(out)) resolve({ child, out: () => out });
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.once('exit', (code) => reject(new Error(`${args.slice(0, 2).join(' ')} exited ${code}: ${out.slice(-2000)}`)));
  });
}

async function kill9(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await gone;
}

interface Tls { ca: string; cert: string; key: string }

/** CPU seconds (user + system) a process has used, from /proc (Linux; clock ticks of 100 Hz). */
async function cpuSeconds(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / 100;
}

/** The KMS process, for its CPU share of the unlock window. */
let kmsPid: number | undefined;

/** Create + Activate in batches of 128 pairs (the ID Placeholder links each pair). */
async function createKeks(p: KeyProvider, n: number): Promise<string[]> {
  const ids: string[] = [];
  while (ids.length < n) {
    const m = Math.min(128, n - ids.length);
    const calls = Array.from({ length: m }, () => [createKeyCall({ length: 256 }), activateCall()]).flat();
    const out = await p.run((c) => c.batch(calls));
    for (let i = 0; i < out.length; i += 2) {
      const o = out[i];
      if (o === undefined || !o.ok) throw new Error(`Create failed: ${o?.ok === false ? o.error.message : '?'}`);
      ids.push(o.value as string);
    }
  }
  return ids;
}

async function getAll(p: KeyProvider, ids: readonly string[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (let i = 0; i < ids.length; i += 256) {
    const part = ids.slice(i, i + 256);
    const r = await p.run((c) => c.batch(part.map((id) => getKeyCall(id)), { continueOnError: true }));
    r.forEach((o, j) => {
      if (!o.ok) throw new Error(o.error.message);
      out.set(part[j] as string, o.value.material);
    });
  }
  return out;
}

interface Scenario {
  readonly hosts: number;
  readonly vmsPerHost: number;
}

interface Outcome {
  readonly seconds: number;
  readonly vms: number;
  readonly rssMb: number;
  readonly getsPerSec: number;
}

async function scenario(s: Scenario, kmsPort: number, kmsTls: Tls, hostTls: { cert: string; key: string; fingerprint: string }, work: string): Promise<Outcome> {
  const total = s.hosts * s.vmsPerHost;
  // Every VM its own KEK, as vSphere does by default (a host's key cache holds 65,536 keys,
  // src/host/keys/key-cache.ts); BENCH_KEYS_PER_HOST=N shares N KEKs among a host's VMs.
  const shared = Number(process.env['BENCH_KEYS_PER_HOST'] ?? '0');
  const keysPerHost = Number.isInteger(shared) && shared > 0 ? Math.min(shared, s.vmsPerHost) : s.vmsPerHost;
  const setup = new KeyProvider({ name: 'setup', tls: kmsTls, hungTimeoutMs: 120_000, servers: [{ name: 'kms', host: '127.0.0.1', port: kmsPort }] });
  let t = Date.now();
  const vmKeks = await createKeks(setup, s.hosts * keysPerHost);
  const hostKeks = await createKeks(setup, s.hosts);
  console.log(`  ${vmKeks.length + s.hosts} KEKs created (Create+Activate batches) in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  t = Date.now();
  const kekBytes = await getAll(setup, vmKeks);
  await setup.close();

  // Host data directories written directly (what many creates would leave, minus NVRAM/logs
  // and disks, which unlocking never reads): a .vmx per VM whose DEK is wrapped by its KEK.
  const hostDirs: string[] = [];
  const vmRecords: VmRecord[] = [];
  for (let h = 0; h < s.hosts; h++) {
    const dir = join(work, `esx${h}`);
    const local = join(dir, 'datastores', 'local');
    await mkdir(local, { recursive: true, mode: 0o700 });
    const vms: Array<{ uuid: string; vmx: string }> = [];
    for (let v = 0; v < s.vmsPerHost; v++) {
      const keyId = vmKeks[h * keysPerHost + (v % keysPerHost)] as string;
      const kek = kekBytes.get(keyId) as Buffer;
      const uuid = randomUUID();
      const name = `vm${v}`;
      const vmDir = join(local, name);
      await mkdir(vmDir, { mode: 0o700 });
      const dek = generateDek();
      const text = encodeVmx(
        { format: VMX_FORMAT, name, uuid, createdAt: new Date().toISOString(), storagePolicy: 'VM Encryption Policy', keySafe: { providerId: PROVIDER, keyId, wrappedDek: wrapDekFor(kek, dek, keyId) } },
        { memoryMiB: 64, disks: [], snapshots: [], nvram: `${name}.nvram`, log: `${name}.log`, serialPorts: 0, parallelPorts: 0 },
        dek,
      );
      dek.fill(0);
      const vmx = join(vmDir, `${name}.vmx`);
      await writeFile(vmx, text, { mode: 0o600 });
      vms.push({ uuid, vmx });
      vmRecords.push({ id: uuid, name, hostId: `esx${h}`, datastoreId: `esx${h}-local`, policyId: 'enc', keys: [{ part: 'vm', key: { providerId: PROVIDER, keyId } }], powerState: 'poweredOff', locked: true });
    }
    await writeFile(
      join(dir, 'host.json'),
      JSON.stringify({ name: `esx${h}`, cryptoMode: 'safe', hostKeyId: hostKeks[h], managerFingerprint: hostTls.fingerprint, datastores: { local }, vms }),
      { mode: 0o600 },
    );
    hostDirs.push(dir);
  }
  for (const k of kekBytes.values()) k.fill(0);
  console.log(`  ${s.hosts} host(s) × ${s.vmsPerHost} encrypted VMs written in ${((Date.now() - t) / 1000).toFixed(1)} s`);

  const ports = await Promise.all(hostDirs.map(() => freePort()));
  const startAgent = (h: number, nodeArgs: readonly string[] = []) =>
    startChild(['host', 'serve', '--data', hostDirs[h] as string, '--name', `esx${h}`, '--listen', `127.0.0.1:${ports[h]}`], /thumbprint=([0-9a-f]{64})/, nodeArgs, agentEntry);
  let agents = await Promise.all(hostDirs.map((_, h) => startAgent(h)));
  const thumbprints = agents.map((a) => /thumbprint=([0-9a-f]{64})/.exec(a.out())?.[1] ?? '');

  // The manager side: a real platform database + key management; the inventory is this
  // scenario's hosts and VMs (the inventory part's own bookkeeping is not what is measured).
  const mdir = join(work, 'manager');
  const db = openDatabase(join(mdir, 'manager.db'), [...PLATFORM_MIGRATIONS, ...KEY_MIGRATIONS]);
  const platform = await createPlatform({ dataDir: mdir, db, adminPassword: 'bench-password-123', log: pino({ level: 'warn' }) });
  const clients = hostDirs.map((_, h) => new HostClient({ url: `https://127.0.0.1:${ports[h]}`, certPem: hostTls.cert, keyPem: hostTls.key, thumbprint: thumbprints[h] as string }));
  const hostRecords: HostRecord[] = hostDirs.map((_, h) => ({
    id: `esx${h}`, name: `esx${h}`, url: `https://127.0.0.1:${ports[h]}`, thumbprint: thumbprints[h] as string,
    connectionState: 'connected', cryptoMode: 'safe', hostKey: { providerId: PROVIDER, keyId: hostKeks[h] as string },
  }));
  // lookups by id in O(1), as the manager's inventory does: key management asks per VM
  const byHost = new Map<string, VmRecord[]>();
  for (const v of vmRecords) {
    const list = byHost.get(v.hostId);
    if (list === undefined) byHost.set(v.hostId, [v]);
    else list.push(v);
  }
  const vmById = new Map(vmRecords.map((v) => [v.id, v]));
  const hostById = new Map(hostRecords.map((h) => [h.id, h]));
  const inventory: InventoryView = {
    hosts: { call: (hostId, method, path, body) => (clients[Number(hostId.slice(3))] as HostClient).call(method, path, body) },
    host: (id) => hostById.get(id),
    listHosts: () => hostRecords,
    cluster: () => undefined,
    clusterHosts: () => [],
    vm: (id) => vmById.get(id),
    listVms: () => vmRecords,
    vmsOnHost: (id) => byHost.get(id) ?? [],
    setHostCrypto: () => undefined,
  };
  const keys = createKeyService({ platform, inventory, options: { watchIntervalMs: 0, retryIntervalMs: 60_000, healthIntervalMs: 600_000 } });
  keys.providers.add({ id: PROVIDER, servers: [{ name: 'kms', host: '127.0.0.1', port: kmsPort }], hungTimeoutMs: 120_000 });
  await keys.providers.trustServer(PROVIDER, kmsTls.ca);
  await keys.providers.uploadClientCertificate(PROVIDER, { certPem: kmsTls.cert, keyPem: kmsTls.key });

  // The power cut: every agent killed, then started again on its port (empty key caches).
  let rss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    rss = Math.max(rss, process.memoryUsage().rss);
  }, 50);
  await Promise.all(agents.map((a) => kill9(a.child)));
  const kmsCpu0 = await cpuSeconds(kmsPid);
  const managerCpu0 = process.cpuUsage();
  const started = process.hrtime.bigint();
  const unlocked = await Promise.all(
    hostDirs.map(async (_, h) => {
      const a = await startAgent(h, profDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
      agents[h] = a;
      const up = Number(process.hrtime.bigint() - started) / 1e9;
      // What the host monitor does when a host comes back: ask key management to unlock it.
      let r = await keys.unlockHost(`esx${h}`);
      for (let i = 0; r.stillLocked.length > 0 && i < 3; i++) r = await keys.unlockHost(`esx${h}`);
      const pushed = Number(process.hrtime.bigint() - started) / 1e9;
      const info = await (clients[h] as HostClient).call<{ lockedVms: string[]; hostKeyPresent?: boolean }>('GET', '/v1/host');
      if (info.lockedVms.length > 0 || info.hostKeyPresent !== true) throw new Error(`esx${h}: ${info.lockedVms.length} VMs still locked`);
      const verified = Number(process.hrtime.bigint() - started) / 1e9;
      if (process.env['BENCH_VERBOSE'] === '1') console.log(`    esx${h}: agent up ${up.toFixed(2)} s, keys pushed ${pushed.toFixed(2)} s, verified ${verified.toFixed(2)} s`);
      return r.unlocked.length;
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (process.env['BENCH_VERBOSE'] === '1') {
    // where the CPU of the window went (the machine is shared: wall time alone does not say)
    const m = process.cpuUsage(managerCpu0);
    const agentCpu = await Promise.all(agents.map((a) => cpuSeconds(a.child.pid)));
    const kmsCpu = (await cpuSeconds(kmsPid)) - kmsCpu0;
    console.log(
      `    CPU in the window: manager ${((m.user + m.system) / 1e6).toFixed(1)} s, KMS ${kmsCpu.toFixed(1)} s, ` +
        `agents ${agentCpu.reduce((x, y) => x + y, 0).toFixed(1)} s (each ${agentCpu.map((c) => c.toFixed(1)).join(' ')})`,
    );
  }
  clearInterval(sampler);
  rss = Math.max(rss, process.memoryUsage().rss);
  const vms = unlocked.reduce((a, b) => a + b, 0);
  if (vms !== total) throw new Error(`${vms} of ${total} VMs unlocked`);
  console.log(`  restart → all ${vms} VMs unlocked (verified on every host) in ${seconds.toFixed(2)} s; manager RSS peak ${(rss / 2 ** 20).toFixed(0)} MiB`);

  // KMS Gets/s through the same fetch path (batches of 256 over 4 connections).
  const fetchers = Array.from({ length: 4 }, () => new KeyProvider({ name: PROVIDER, tls: kmsTls, hungTimeoutMs: 120_000, servers: [{ name: 'kms', host: '127.0.0.1', port: kmsPort }] }));
  const g0 = process.hrtime.bigint();
  const got = await fetchKeks(PROVIDER, fetchers, vmKeks);
  const getsPerSec = got.keys.size / (Number(process.hrtime.bigint() - g0) / 1e9);
  for (const k of got.keys.values()) k.fill(0);
  await Promise.all(fetchers.map((f) => f.close()));
  console.log(`  KMS: ${got.keys.size} Gets in KMIP batches → ${getsPerSec.toFixed(0)} Gets/s`);

  await keys.close();
  platform.close();
  if (db.open) db.close();
  // SIGTERM lets a profiled agent write its profile (the agent exits 0 on it)
  await Promise.all(agents.map((a) => kill9(a.child, profDir === undefined ? 'SIGKILL' : 'SIGTERM')));
  return { seconds, vms, rssMb: rss / 2 ** 20, getsPerSec };
}

const work = await mkdtemp(join('/dev/shm', 'vmcrypt-bench-unlock-'));
let kms: ChildProcess | undefined;
let compiled: string | undefined;
try {
  if (!agentFromSources) {
    const c = await compileSources();
    compiled = c.dir;
    agentEntry = [c.run];
  }
  console.log(`host agents: ${agentFromSources ? 'TypeScript sources through tsx (BENCH_AGENT=tsx)' : 'compiled JavaScript, as installed'}`);
  const data = join(work, 'kms');
  const { stdout } = await run(process.execPath, [...cli, 'kms', 'init', '--data', data, '--auto-unseal-file', `${data}.unseal`, '--json'], { cwd: root });
  const init = JSON.parse(stdout) as { caCert: string; client: { cert: string; key: string } };
  const kmsTls: Tls = { ca: await readFile(init.caCert, 'utf8'), cert: await readFile(init.client.cert, 'utf8'), key: await readFile(init.client.key, 'utf8') };
  // The manager's client certificate towards the hosts (pinned by them in host.json).
  const issued = await issueClientCertificate(data, 'bench-manager-hosts', undefined, { autoUnsealFile: `${data}.unseal` });
  const hostCert = await readFile(issued.cert, 'utf8');
  const hostKey = await readFile(issued.key, 'utf8');
  const fingerprint = new X509Certificate(hostCert).fingerprint256.replace(/:/g, '').toLowerCase();
  const kmsPort = await freePort();
  kms = (await startChild(['kms', 'serve', '--data', data, '--auto-unseal-file', `${data}.unseal`, '--listen', `127.0.0.1:${kmsPort}`], /kms listening on/)).child;
  kmsPid = kms.pid;

  const custom = /^(\d+)x(\d+)$/.exec(process.env['BENCH_SIZE'] ?? '');
  if (custom !== null) {
    // BENCH_SIZE=HOSTSxVMS: one scenario of that size only (to study one part of the curve).
    const o = await scenario({ hosts: Number(custom[1]), vmsPerHost: Number(custom[2]) }, kmsPort, kmsTls, { cert: hostCert, key: hostKey, fingerprint }, join(work, 'custom'));
    console.log(`RESULT unlock-custom seconds=${o.seconds.toFixed(2)} vms=${o.vms} kms_gets_per_s=${o.getsPerSec.toFixed(0)} manager_rss_mb=${o.rssMb.toFixed(0)}`);
    process.exitCode = 0;
  } else {
  console.log(`quick size: 1 host × 1000 VMs`);
  const q = await scenario({ hosts: 1, vmsPerHost: 1000 }, kmsPort, kmsTls, { cert: hostCert, key: hostKey, fingerprint }, join(work, 'quick'));
  let full: Outcome | undefined;
  if (!quick) {
    console.log(`full size: 10 hosts × 4500 VMs`);
    full = await scenario({ hosts: 10, vmsPerHost: 4500 }, kmsPort, kmsTls, { cert: hostCert, key: hostKey, fingerprint }, join(work, 'full'));
  }
  const last = full ?? q;
  const load = loadavg()[0]?.toFixed(2) ?? '?';
  console.log(`targets: 1,000 VMs < 5 s (${q.seconds < 5 ? 'met' : 'NOT met'}); 45,000 < 60 s (${full === undefined ? 'not run' : full.seconds < 60 ? 'met' : 'NOT met'}); cpus=${cpus().length} load1=${load}`);
  console.log(
    `RESULT unlock ours=${q.seconds.toFixed(2)} vms=${last.vms} full_s=${full === undefined ? 'NA' : full.seconds.toFixed(2)} kms_gets_per_s=${last.getsPerSec.toFixed(0)} manager_rss_mb=${last.rssMb.toFixed(0)}`,
  );
  }
} finally {
  if (kms !== undefined) await kill9(kms);
  await Promise.all([...children].map((c) => kill9(c)));
  await rm(work, { recursive: true, force: true });
  if (compiled !== undefined) await rm(compiled, { recursive: true, force: true });
}
