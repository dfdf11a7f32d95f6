import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import type { CliIo } from '../command.js';
import { parseCommandArgs } from '../args.js';
import { UsageError, VmcryptError } from '../../errors.js';
import { startEtcdCluster, type EtcdCluster, type EtcdMemberSpec } from '../../kms/store/etcd-cluster.js';
import { diesWithParent } from '../../kms/store/etcd-cluster-child.js';
import { writeAtomically } from '../../fs/atomic-file.js';

/**
 * `vmcrypt kms cluster up`: a KMS cluster on loopback for tests and the lab — N etcd members
 * plus M stateless KMS nodes (`kms serve --store etcd`) sharing one data dir (master key + PKI
 * from `kms init`). Ports are recorded in DIR/cluster.json, so a second `up` on the same DIR
 * restarts the same cluster with its keys.
 */
export const KMS_CLUSTER_USAGE =
  'vmcrypt kms cluster up [--dir DIR] [--nodes 3] [--etcd-members 3] [--etcd-only] [--json]\n' +
  '       vmcrypt kms cluster status (--dir DIR | --etcd URL,URL…) [--json]';

interface ClusterLayout {
  readonly version: 1;
  readonly etcd: readonly EtcdMemberSpec[];
  readonly kmsPorts: readonly number[];
}

export interface KmsNode {
  readonly name: string;
  /** host:port of the KMIP listener. */
  readonly address: string;
  running(): boolean;
  kill(): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export interface KmsCluster {
  readonly dir: string;
  readonly kmsDataDir: string;
  readonly etcd: EtcdCluster;
  readonly nodes: readonly KmsNode[];
  stop(): Promise<void>;
}

export interface StartKmsClusterOptions {
  readonly dir: string;
  readonly kmsNodes?: number;
  readonly etcdMembers?: number;
  /** argv prefix that runs our CLI under process.execPath (default: this process's own). */
  readonly vmcryptArgv?: readonly string[];
  readonly readyTimeoutMs?: number;
}

/**
 * How to run our own CLI in a child process: the run.ts/run.js beside this module (through tsx
 * when running from the TypeScript sources), whatever started this process.
 */
function selfArgv(): string[] {
  const here = fileURLToPath(import.meta.url);
  const cliDir = dirname(dirname(here));
  return here.endsWith('.ts') ? ['--import', 'tsx', join(cliDir, 'run.ts')] : [join(cliDir, 'run.js')];
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a !== null && typeof a === 'object' ? res(a.port) : rej(new Error('no port'))));
    });
  });
}

async function distinctPorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freeLoopbackPort());
  return [...ports];
}

async function loadOrCreateLayout(dir: string, etcdMembers: number, kmsNodes: number): Promise<ClusterLayout> {
  const path = join(dir, 'cluster.json');
  if (existsSync(path)) {
    const text = await readFile(path, 'utf8');
    if (text.length > 64 * 1024) throw new VmcryptError('KMS_CLUSTER', `${path} is too large`);
    const layout = parseLayout(text, path);
    if (layout.kmsPorts.length >= kmsNodes) return layout;
    // More KMS nodes than last time: new ports for the extra ones, etcd untouched.
    const extra = (await distinctPorts(kmsNodes + layout.kmsPorts.length + 2 * layout.etcd.length)).filter(
      (p) => !layout.kmsPorts.includes(p) && !layout.etcd.some((m) => m.clientPort === p || m.peerPort === p),
    );
    const grown: ClusterLayout = { ...layout, kmsPorts: [...layout.kmsPorts, ...extra.slice(0, kmsNodes - layout.kmsPorts.length)] };
    await writeLayout(path, grown);
    return grown;
  }
  const ports = await distinctPorts(2 * etcdMembers + kmsNodes);
  const layout: ClusterLayout = {
    version: 1,
    etcd: Array.from({ length: etcdMembers }, (_, i) => ({ name: `etcd-${i}`, clientPort: ports[2 * i] ?? 0, peerPort: ports[2 * i + 1] ?? 0 })),
    kmsPorts: ports.slice(2 * etcdMembers),
  };
  await writeLayout(path, layout);
  return layout;
}

const isPort = (p: unknown): p is number => Number.isInteger(p) && (p as number) >= 1 && (p as number) <= 65535;

/** DIR/cluster.json as `up` wrote it; anything else (hand-edited, truncated) is a clear KMS_CLUSTER error. */
function parseLayout(text: string, path: string): ClusterLayout {
  const bad = (): VmcryptError => new VmcryptError('KMS_CLUSTER', `${path} is not a cluster layout written by vmcrypt`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw bad();
  }
  const l = raw as Partial<Record<keyof ClusterLayout, unknown>> | null;
  if (l === null || typeof l !== 'object' || l.version !== 1 || !Array.isArray(l.etcd) || !Array.isArray(l.kmsPorts)) throw bad();
  if (l.etcd.length < 1 || l.etcd.length > 9 || l.kmsPorts.length > 9 || !l.kmsPorts.every(isPort)) throw bad();
  for (const m of l.etcd as unknown[]) {
    const e = m as Partial<Record<keyof EtcdMemberSpec, unknown>> | null;
    if (e === null || typeof e !== 'object' || typeof e.name !== 'string' || !/^[a-z0-9-]{1,32}$/.test(e.name)) throw bad();
    if (!isPort(e.clientPort) || !isPort(e.peerPort)) throw bad();
  }
  return raw as ClusterLayout;
}

/** Written whole or not at all (temp file, fsync, rename), so a crash never leaves half a layout. */
async function writeLayout(path: string, layout: ClusterLayout): Promise<void> {
  await writeAtomically(path, (fh) => fh.writeFile(JSON.stringify(layout, null, 2) + '\n', 'utf8'));
}

/** `kms serve` says so once its listener is up; a bare TCP probe (logged by the node as a refused client) is the fallback. */
const LISTENING = /listening on/;
const PROBE_AFTER_MS = 3000;

function waitForPort(port: number, child: ChildProcess, timeoutMs: number, tail: () => string): Promise<void> {
  const started = Date.now();
  const end = started + timeoutMs;
  return new Promise((res, rej) => {
    const tryOnce = (): void => {
      if (child.exitCode !== null || child.signalCode !== null) {
        rej(new VmcryptError('KMS_CLUSTER', `KMS node on port ${port} exited (${child.exitCode ?? child.signalCode}):\n${tail()}`));
        return;
      }
      if (LISTENING.test(tail())) {
        res();
        return;
      }
      if (Date.now() - started < PROBE_AFTER_MS) {
        setTimeout(tryOnce, 50);
        return;
      }
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        res();
      });
      s.on('error', () => {
        s.destroy();
        if (Date.now() > end) rej(new VmcryptError('KMS_CLUSTER', `KMS node on port ${port} not listening after ${timeoutMs} ms:\n${tail()}`));
        else setTimeout(tryOnce, 100);
      });
    };
    tryOnce();
  });
}

function makeKmsNode(name: string, port: number, argv: readonly string[], timeoutMs: number, log: WriteStream | undefined): KmsNode {
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let out = '';
  const alive = (): boolean => child !== undefined && child.exitCode === null && child.signalCode === null;
  return {
    name,
    address: `127.0.0.1:${port}`,
    running: alive,
    async kill() {
      if (alive()) child?.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (alive()) {
        child?.kill('SIGTERM');
        const t = setTimeout(() => child?.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
    },
    async start() {
      if (alive()) return;
      out = '';
      const run = diesWithParent(process.execPath, argv);
      const c = spawn(run.cmd, run.args, { stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      exited = new Promise((r) => c.once('exit', () => r()));
      const onData = (d: Buffer): void => {
        out = (out + d.toString()).slice(-16 * 1024);
        log?.write(d);
      };
      c.stdout?.on('data', onData);
      c.stderr?.on('data', onData);
      await waitForPort(port, c, timeoutMs, () => out);
    },
  };
}

/** Starts (or restarts, when DIR/cluster.json exists) the etcd members and the KMS nodes. */
export async function startKmsCluster(opts: StartKmsClusterOptions): Promise<KmsCluster> {
  const dir = resolve(opts.dir);
  const nodesWanted = opts.kmsNodes ?? 3;
  await mkdir(join(dir, 'logs'), { recursive: true, mode: 0o700 });
  const layout = await loadOrCreateLayout(dir, opts.etcdMembers ?? 3, Math.max(nodesWanted, 3));
  const cli = opts.vmcryptArgv ?? selfArgv();
  const timeout = opts.readyTimeoutMs ?? 60_000;
  const logs = new Map<string, WriteStream>();
  const logOf = (name: string): WriteStream => {
    let s = logs.get(name);
    if (s === undefined) {
      s = createWriteStream(join(dir, 'logs', `${name}.log`), { flags: 'a', mode: 0o600 });
      logs.set(name, s);
    }
    return s;
  };
  const etcd = await startEtcdCluster({
    dataRoot: join(dir, 'etcd'),
    members: layout.etcd,
    readyTimeoutMs: timeout,
    onOutput: (m, chunk) => logOf(m).write(chunk),
  });
  const kmsDataDir = join(dir, 'kms');
  const nodes: KmsNode[] = [];
  try {
    if (nodesWanted > 0 && !(existsSync(kmsDataDir) && (await readdir(kmsDataDir)).length > 0)) {
      await runOnce([...cli, 'kms', 'init', '--data', kmsDataDir]);
    }
    for (const [i, port] of layout.kmsPorts.slice(0, nodesWanted).entries()) {
      const argv = [...cli, 'kms', 'serve', '--data', kmsDataDir, '--listen', `127.0.0.1:${port}`, '--store', 'etcd', '--etcd', etcd.endpoints];
      nodes.push(makeKmsNode(`kms-${i}`, port, argv, timeout, logOf(`kms-${i}`)));
    }
    await Promise.all(nodes.map((n) => n.start()));
  } catch (e) {
    await Promise.all(nodes.map((n) => n.stop()));
    await etcd.stop();
    throw e;
  }
  return {
    dir,
    kmsDataDir,
    etcd,
    nodes,
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
      await etcd.stop();
      for (const s of logs.values()) s.end();
    },
  };
}

function runOnce(argv: readonly string[]): Promise<void> {
  return new Promise((res, rej) => {
    const run = diesWithParent(process.execPath, argv);
    const c = spawn(run.cmd, run.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    c.once('error', rej);
    c.once('exit', (code) =>
      code === 0 ? res() : rej(new VmcryptError('KMS_CLUSTER', `'vmcrypt ${argv.slice(-4).join(' ')}' failed (${code}):\n${out.slice(-2000)}`)),
    );
  });
}

/**
 * `vmcrypt kms cluster <verb>`; helper A hooks this into `kms` (`kms cluster …` → args after
 * "cluster"). Runs in the foreground until SIGINT/SIGTERM, then stops every process it started.
 */
export async function kmsClusterCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [verb, ...rest] = args;
  if (verb === 'status') return clusterStatusCommand(rest, io);
  if (verb !== 'up') throw new UsageError(`unknown 'kms cluster ${verb ?? ''}'\nusage: ${KMS_CLUSTER_USAGE}`);
  const { values } = parseCommandArgs(
    rest,
    {
      dir: { type: 'string' },
      nodes: { type: 'string' },
      'etcd-members': { type: 'string' },
      'etcd-only': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    KMS_CLUSTER_USAGE,
  );
  const count = (v: string | undefined, def: number, flag: string, min: number): number => {
    const n = v === undefined ? def : Number(v);
    if (!Number.isInteger(n) || n < min || n > 9) throw new UsageError(`${flag} must be an integer ${min}..9\nusage: ${KMS_CLUSTER_USAGE}`);
    return n;
  };
  const members = count(values['etcd-members'], 3, '--etcd-members', 1);
  const nodes = values['etcd-only'] === true ? 0 : count(values.nodes, 3, '--nodes', 1);
  const dir = values.dir ?? join(tmpdir(), 'vmcrypt-kms-cluster');
  const cluster = await startKmsCluster({ dir, kmsNodes: nodes, etcdMembers: members });
  const summary = {
    dir: cluster.dir,
    etcd: cluster.etcd.members.map((m) => m.clientUrl),
    kms: cluster.nodes.map((n) => n.address),
    kmsData: cluster.kmsDataDir,
    logs: join(cluster.dir, 'logs'),
  };
  if (values.json === true) io.out(JSON.stringify(summary));
  else {
    io.out(`etcd members : ${summary.etcd.join(',')}`);
    if (summary.kms.length > 0) {
      io.out(`KMS nodes    : ${summary.kms.join(' ')}   (key provider order as listed)`);
      io.out(`KMS data     : ${summary.kmsData}   (master key, CA, manager client certificate from 'vmcrypt kms init')`);
    }
    io.out(`logs         : ${summary.logs}`);
    io.out('running; Ctrl-C stops every process (keys stay in etcd; run the same command again to restart)');
  }
  await new Promise<void>((res) => {
    process.once('SIGINT', res);
    process.once('SIGTERM', res);
    process.once('SIGHUP', res); // terminal closed: stop the children too
  });
  await cluster.stop();
  return 0;
}

/** `kms cluster status`: each etcd member's health, and whether writes can commit. Exit 0 with quorum, 1 without. */
async function clusterStatusCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, { dir: { type: 'string' }, etcd: { type: 'string' }, json: { type: 'boolean' } }, KMS_CLUSTER_USAGE);
  // Loaded here: the etcd (gRPC) client is only needed by this verb, not by every `vmcrypt kms …`.
  const { parseEtcdEndpoints } = await import('../../kms/store/etcd.js');
  const { etcdClusterStatus } = await import('../../kms/store/etcd-status.js');
  let endpoints: string[];
  if (values.etcd !== undefined) endpoints = parseEtcdEndpoints(values.etcd);
  else if (values.dir !== undefined) {
    const path = join(resolve(values.dir), 'cluster.json');
    if (!existsSync(path)) throw new UsageError(`${path} does not exist: is this a 'kms cluster up' directory?`);
    const layout = await loadOrCreateLayout(resolve(values.dir), 0, 0);
    endpoints = layout.etcd.map((m) => `http://127.0.0.1:${m.clientPort}`);
  } else throw new UsageError(`give --dir or --etcd\nusage: ${KMS_CLUSTER_USAGE}`);
  const status = await etcdClusterStatus(endpoints);
  if (values.json === true) io.out(JSON.stringify(status));
  else {
    for (const m of status.members) {
      const state = !m.reachable ? 'UNREACHABLE' : m.isLeader ? 'leader' : 'follower';
      const detail = m.reachable ? `etcd ${m.version} term ${m.raftTerm} index ${m.raftIndex} db ${m.dbSizeBytes} B` : '';
      io.out(`${m.endpoint.padEnd(26)} ${state.padEnd(12)} ${detail}${m.errors.length > 0 ? `  (${m.errors.join('; ')})` : ''}`);
    }
    io.out(status.quorum ? 'quorum: yes (writes can commit)' : 'quorum: NO — writes fail with STORE_UNAVAILABLE until a majority of members is back');
  }
  return status.quorum ? 0 : 1;
}
