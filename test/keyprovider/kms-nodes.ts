import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initDataDir, issueClientCertificate, kmsPaths } from '../../src/kms/data-dir.js';
import type { TlsIdentity } from '../../src/kmip/client/index.js';
import { vmcryptArgv } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { startProcess, type Running } from '../helpers/process.js';
import { diesWithParent } from '../../src/proc/launcher.js';

/** A KMS data directory (master key + PKI) shared by every node of one test cluster. */
export interface KmsDataDir {
  readonly dir: string;
  /** Trust + identity of the manager client created by init. */
  readonly manager: TlsIdentity;
  /** A further client identity (CN = name) signed by the KMS CA. */
  identity(name: string): Promise<TlsIdentity>;
  remove(): Promise<void>;
}

export async function makeKmsDataDir(): Promise<KmsDataDir> {
  const dir = await mkdtemp(join(tmpdir(), 'vmcrypt-kms-'));
  const init = await initDataDir(join(dir, 'data'));
  const data = init.paths.dataDir;
  const ca = await readFile(kmsPaths(data).caCert, 'utf8');
  const load = async (cert: string, key: string): Promise<TlsIdentity> => ({
    ca,
    cert: await readFile(cert, 'utf8'),
    key: await readFile(key, 'utf8'),
  });
  return {
    dir: data,
    manager: await load(init.manager.cert, init.manager.key),
    async identity(name) {
      const c = await issueClientCertificate(data, name);
      return load(c.cert, c.key);
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** One `vmcrypt kms serve` process on a fixed loopback port (so a restart comes back on it). */
export interface KmsNode {
  readonly name: string;
  readonly port: number;
  process(): Running | undefined;
  start(): Promise<void>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export async function kmsNode(
  name: string,
  data: KmsDataDir,
  opts: { etcd?: readonly string[]; etcdPrefix?: string; extraArgs?: readonly string[] } = {},
): Promise<KmsNode> {
  const port = await freePort();
  let proc: Running | undefined;
  const args = [
    ...vmcryptArgv(),
    'kms',
    'serve',
    '--data',
    data.dir,
    '--listen',
    `127.0.0.1:${port}`,
    ...(opts.etcd === undefined ? [] : ['--store', 'etcd', '--etcd', opts.etcd.join(',')]),
    ...(opts.etcdPrefix === undefined ? [] : ['--etcd-prefix', opts.etcdPrefix]),
    ...(opts.extraArgs ?? []),
  ];
  return {
    name,
    port,
    process: () => proc,
    async start() {
      // Dies with the test worker even if that is killed hard (no orphan KMS holding the port).
      const run = diesWithParent(process.execPath, args);
      proc = await startProcess(run.cmd, run.args, { ready: /kms listening on/, readyTimeoutMs: 60_000 });
    },
    async kill() {
      await proc?.kill();
    },
    async stop() {
      await proc?.stop();
    },
  };
}
