import { join } from 'node:path';
import { KmsError, KmsErrorCode } from '../errors.js';
import { makePrivateDir } from '../../fs/private-files.js';
import { startChild, type SupervisedChild } from '../../proc/supervisor.js';

/**
 * Brings up etcd 3.4 members on loopback (for tests, the lab and `kms cluster up`): one
 * process per member, data dirs under `dataRoot`, ports chosen by the caller. Each member can
 * be killed (SIGKILL, a crash) and restarted on the same data dir and ports, which is how the
 * tests take quorum away and give it back.
 */
export interface EtcdMemberSpec {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
}

export interface EtcdClusterOptions {
  readonly dataRoot: string;
  readonly members: readonly EtcdMemberSpec[];
  /** Default /usr/bin/etcd (Debian etcd-server). */
  readonly etcdBinary?: string;
  readonly token?: string;
  readonly readyTimeoutMs?: number;
  /**
   * Serve clients over TLS (https://) with these PEM files, and require client certificates
   * issued by `caFile` (--client-cert-auth). Peer traffic stays on loopback HTTP.
   */
  readonly clientTls?: { readonly caFile: string; readonly certFile: string; readonly keyFile: string };
  /** Peer traffic over TLS too (https:// peer URLs, --peer-client-cert-auth); the certificate must allow client and server use. */
  readonly peerTls?: { readonly caFile: string; readonly certFile: string; readonly keyFile: string };
  /** Where member output goes besides the in-memory tail (e.g. a log file stream). */
  readonly onOutput?: (member: string, chunk: string) => void;
}

export interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly dataDir: string;
  running(): boolean;
  /** The last 64 KiB the member wrote. */
  output(): string;
  /** SIGKILL (crash); resolves when the process is gone. */
  kill(): Promise<void>;
  /**
   * SIGTERM, then SIGKILL after `graceMs` (default 2 s). When all members stop together a
   * leader's graceful stop waits ~5 s for a leadership transfer that cannot happen; every
   * commit is already fsync'd to the WAL, so the SIGKILL loses nothing.
   */
  stop(graceMs?: number): Promise<void>;
  /** Starts the member again on the same data dir; resolves when it serves clients. */
  start(): Promise<void>;
}

export interface EtcdCluster {
  readonly members: readonly EtcdMember[];
  /** Comma-separated client URLs, the `--etcd` value of `kms serve`. */
  readonly endpoints: string;
  stop(): Promise<void>;
}

const OUTPUT_TAIL = 64 * 1024;
/** zap logger ("serving client traffic …") or capnslog ("ready to serve client requests"). */
const READY = /serving client traffic|ready to serve client requests/;

export async function startEtcdCluster(opts: EtcdClusterOptions): Promise<EtcdCluster> {
  const binary = opts.etcdBinary ?? '/usr/bin/etcd';
  const token = opts.token ?? `vmcrypt-${process.pid}-${Date.now()}`;
  const peerScheme = opts.peerTls === undefined ? 'http' : 'https';
  const initialCluster = opts.members.map((m) => `${m.name}=${peerScheme}://127.0.0.1:${m.peerPort}`).join(',');
  const members = opts.members.map((spec) =>
    makeMember(spec, binary, join(opts.dataRoot, spec.name), initialCluster, token, opts.readyTimeoutMs ?? 60_000, opts.onOutput, opts.clientTls, opts.peerTls),
  );
  try {
    // Members of a new cluster only report ready once a quorum has formed: start them together.
    await Promise.all(members.map((m) => m.start()));
  } catch (e) {
    await Promise.all(members.map((m) => m.stop()));
    throw e;
  }
  return {
    members,
    endpoints: members.map((m) => m.clientUrl).join(','),
    stop: async () => {
      await Promise.all(members.map((m) => m.stop()));
    },
  };
}

function makeMember(
  spec: EtcdMemberSpec,
  binary: string,
  dataDir: string,
  initialCluster: string,
  token: string,
  readyTimeoutMs: number,
  onOutput: EtcdClusterOptions['onOutput'],
  clientTls: EtcdClusterOptions['clientTls'],
  peerTls: EtcdClusterOptions['peerTls'],
): EtcdMember {
  const clientUrl = `${clientTls === undefined ? 'http' : 'https'}://127.0.0.1:${spec.clientPort}`;
  const peerUrl = `${peerTls === undefined ? 'http' : 'https'}://127.0.0.1:${spec.peerPort}`;
  const args = [
    '--name', spec.name,
    '--data-dir', dataDir,
    '--listen-client-urls', clientUrl,
    '--advertise-client-urls', clientUrl,
    '--listen-peer-urls', peerUrl,
    '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', initialCluster,
    '--initial-cluster-token', token,
    // Ignored once the data dir exists, so a restart rejoins the same cluster.
    '--initial-cluster-state', 'new',
    '--logger', 'zap',
    '--log-outputs', 'stderr',
    ...(clientTls === undefined
      ? []
      : ['--cert-file', clientTls.certFile, '--key-file', clientTls.keyFile, '--trusted-ca-file', clientTls.caFile, '--client-cert-auth']),
    ...(peerTls === undefined
      ? []
      : ['--peer-cert-file', peerTls.certFile, '--peer-key-file', peerTls.keyFile, '--peer-trusted-ca-file', peerTls.caFile, '--peer-client-cert-auth']),
  ];
  let child: SupervisedChild | undefined;
  const alive = (): boolean => child?.running() === true;

  const member: EtcdMember = {
    name: spec.name,
    clientUrl,
    dataDir,
    running: alive,
    output: () => child?.output() ?? '',
    async kill() {
      await child?.kill();
    },
    async stop(graceMs = 2000) {
      await child?.stop(graceMs);
    },
    async start() {
      if (alive()) return;
      await makePrivateDir(dataDir);
      try {
        const c = startChild({
          name: `etcd member ${spec.name}`,
          command: binary,
          args,
          launch: { diesWithParent: 'prefer' },
          outputLimit: OUTPUT_TAIL,
          ...(onOutput === undefined ? {} : { onOutput: (text: string) => onOutput(spec.name, text) }),
        });
        child = c;
        await c.waitForOutput(READY, readyTimeoutMs);
      } catch (e) {
        throw new KmsError(KmsErrorCode.STORE_UNAVAILABLE, e instanceof Error ? e.message : String(e), { cause: e });
      }
    },
  };
  return member;
}
