import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VmcryptError } from '../../errors.js';
import { makePrivateDir, PRIVATE_FILE_MODE } from '../../fs/private-files.js';
import { startEtcdCluster, type EtcdCluster } from '../../kms/store/etcd-cluster.js';
import { runToCompletion } from '../../proc/run-to-completion.js';
import { startChild, type SupervisedChild } from '../../proc/supervisor.js';
import { layoutPath, loadOrCreateLayout } from './kms-cluster-layout.js';
import { ensureClusterEtcdPki, hasClusterEtcdPki, type ClusterEtcdPki } from './kms-cluster-tls.js';

/**
 * A KMS cluster on loopback for tests and the lab — N etcd members plus M stateless KMS nodes
 * (`kms serve --store etcd`) sharing one data dir (master key + PKI from `kms init`).
 */
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
  /** etcd's TLS files (client and peer TLS, client-certificate auth); undefined for a plain-HTTP cluster. */
  readonly etcdPki?: ClusterEtcdPki;
  stop(): Promise<void>;
}

export interface StartKmsClusterOptions {
  readonly dir: string;
  readonly kmsNodes?: number;
  readonly etcdMembers?: number;
  /** argv prefix that runs our CLI under process.execPath (default: this process's own). */
  readonly vmcryptArgv?: readonly string[];
  readonly readyTimeoutMs?: number;
  /**
   * Plain HTTP to and between the etcd members (no TLS, no client certificates): only when asked.
   * Owners, grants and attributes then cross the links in clear; anyone who reaches the ports can
   * write records (the KMS refuses edited records, but can be denied service).
   */
  readonly plainEtcd?: boolean;
  /** Told about security downgrades (plain etcd). */
  readonly warn?: (line: string) => void;
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

/** `kms serve` says so once its listener is up; a bare TCP probe (logged by the node as a refused client) is the fallback. */
const LISTENING = /listening on/;
const PROBE_AFTER_MS = 3000;
const NODE_OUTPUT_LIMIT = 16 * 1024;
const NODE_STOP_GRACE_MS = 5000;

function tcpAccepts(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      res(true);
    });
    s.on('error', () => {
      s.destroy();
      res(false);
    });
  });
}

function makeKmsNode(name: string, port: number, argv: readonly string[], timeoutMs: number, log: WriteStream | undefined): KmsNode {
  let child: SupervisedChild | undefined;
  return {
    name,
    address: `127.0.0.1:${port}`,
    running: () => child?.running() === true,
    async kill() {
      await child?.kill();
    },
    async stop() {
      await child?.stop(NODE_STOP_GRACE_MS);
    },
    async start() {
      if (child?.running() === true) return;
      try {
        const c = startChild({
          name: `KMS node on port ${port}`,
          command: process.execPath,
          args: argv,
          launch: { diesWithParent: 'prefer' },
          outputLimit: NODE_OUTPUT_LIMIT,
          ...(log === undefined ? {} : { onOutput: (text: string) => log.write(text) }),
        });
        child = c;
        const started = Date.now();
        const listening = async (): Promise<true | undefined> =>
          LISTENING.test(c.output()) || (Date.now() - started >= PROBE_AFTER_MS && (await tcpAccepts(port))) ? true : undefined;
        await c.waitFor(listening, { timeoutMs, intervalMs: 50 });
      } catch (err) {
        throw new VmcryptError('KMS_CLUSTER', err instanceof Error ? err.message : String(err), { cause: err });
      }
    },
  };
}

/** Starts (or restarts, when DIR/cluster.json exists) the etcd members and the KMS nodes. */
export async function startKmsCluster(opts: StartKmsClusterOptions): Promise<KmsCluster> {
  const dir = resolve(opts.dir);
  const nodesWanted = opts.kmsNodes ?? 3;
  await makePrivateDir(join(dir, 'logs'));
  const existing = existsSync(layoutPath(dir));
  // TLS for new clusters unless plain is asked for; a cluster first started plain stays plain (its peers' URLs are in its data).
  const plain = opts.plainEtcd === true || (existing && !hasClusterEtcdPki(dir));
  if (plain) opts.warn?.(`kms cluster: WARNING: etcd runs over plain HTTP${existing && opts.plainEtcd !== true ? ' (this cluster was created that way)' : ''}: no TLS, no client certificates; owners and attributes cross the links in clear`);
  const etcdPki = plain ? undefined : await ensureClusterEtcdPki(dir);
  const layout = await loadOrCreateLayout(dir, opts.etcdMembers ?? 3, Math.max(nodesWanted, 3));
  const cli = opts.vmcryptArgv ?? selfArgv();
  const timeout = opts.readyTimeoutMs ?? 60_000;
  const logs = new Map<string, WriteStream>();
  const logOf = (name: string): WriteStream => {
    let s = logs.get(name);
    if (s === undefined) {
      s = createWriteStream(join(dir, 'logs', `${name}.log`), { flags: 'a', mode: PRIVATE_FILE_MODE });
      logs.set(name, s);
    }
    return s;
  };
  const etcd = await startEtcdCluster({
    dataRoot: join(dir, 'etcd'),
    members: layout.etcd,
    readyTimeoutMs: timeout,
    onOutput: (m, chunk) => logOf(m).write(chunk),
    ...(etcdPki === undefined
      ? {}
      : {
          clientTls: { caFile: etcdPki.caFile, certFile: etcdPki.memberCertFile, keyFile: etcdPki.memberKeyFile },
          peerTls: { caFile: etcdPki.caFile, certFile: etcdPki.memberCertFile, keyFile: etcdPki.memberKeyFile },
        }),
  });
  const kmsDataDir = join(dir, 'kms');
  const nodes: KmsNode[] = [];
  try {
    if (nodesWanted > 0 && !(existsSync(kmsDataDir) && (await readdir(kmsDataDir)).length > 0)) {
      // The nodes unseal from a file beside (not inside) the data dir: a lab/test set-up (docs/kms.md).
      await initKmsDataDir([...cli, 'kms', 'init', '--data', kmsDataDir, '--auto-unseal-file', join(dir, 'unseal.key')]);
    }
    for (const [i, port] of layout.kmsPorts.slice(0, nodesWanted).entries()) {
      const argv = [...cli, 'kms', 'serve', '--data', kmsDataDir, '--auto-unseal-file', join(dir, 'unseal.key'), '--listen', `127.0.0.1:${port}`, '--store', 'etcd', '--etcd', etcd.endpoints,
        ...(etcdPki === undefined ? [] : ['--etcd-ca', etcdPki.caFile, '--etcd-cert', etcdPki.clientCertFile, '--etcd-key', etcdPki.clientKeyFile])];
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
    ...(etcdPki === undefined ? {} : { etcdPki }),
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
      await etcd.stop();
      for (const s of logs.values()) s.end();
    },
  };
}

async function initKmsDataDir(argv: readonly string[]): Promise<void> {
  try {
    await runToCompletion({ name: `'vmcrypt ${argv.slice(-4).join(' ')}'`, command: process.execPath, args: argv, launch: { diesWithParent: 'prefer' } });
  } catch (err) {
    throw new VmcryptError('KMS_CLUSTER', err instanceof Error ? err.message : String(err), { cause: err });
  }
}
