import { join } from 'node:path';
import { makePrivateDir } from '../../fs/private-files.js';
import { startKmsCluster, type KmsCluster } from '../commands/kms-cluster-start.js';
import { startLabKms } from './components.js';
import type { LabChild } from './children.js';
import type { KmsServer } from './key-provider-setup.js';
import { pickPort, DEFAULT_PORTS } from './ports.js';
import { LabError, LabErrorCode } from './errors.js';
import { ensureSealedLabKms, labSealFiles, type LabSealFiles } from './kms-seal.js';

/** The lab's key servers, whichever way they run. */
export interface LabKms {
  readonly mode: 'single' | 'cluster';
  /** The KMS data dir (master key, PKI): where the manager's client certificate comes from. */
  readonly dataDir: string;
  /** The auto-unseal file and the unseal shares (outside the data dir; a lab is not production). */
  readonly seal: LabSealFiles;
  readonly servers: readonly KmsServer[];
  /** The single KMS's port (mode single). */
  readonly port?: number;
  readonly pids: ReadonlyArray<{ name: string; port: number; pid: number }>;
  /** Stops / starts one key server by its provider name (the tour's failover step). */
  stopServer(name: string): Promise<void>;
  startServer(name: string): Promise<void>;
  stop(): Promise<void>;
}

function unknownServer(name: string, servers: readonly KmsServer[]): LabError {
  return new LabError(LabErrorCode.CONTROL_FAILED, `no key server ${name} in this lab (${servers.map((s) => s.name).join(', ')})`);
}

/**
 * One KMS on SQLite in DIR/kms (sealed master key and PKI made on the first run, unsealed at start
 * from DIR/kms-unseal.key); the recorded port if still free.
 */
export async function startSingleKms(dir: string, logDir: string, recordedPort: number | undefined, taken: Set<number>, freePorts = false, log: (line: string) => void = () => {}): Promise<LabKms> {
  const dataDir = join(dir, 'kms');
  const seal = labSealFiles(dir, 'single');
  await ensureSealedLabKms(dataDir, seal, log);
  const port = await pickPort(recordedPort ?? (freePorts ? undefined : DEFAULT_PORTS.kms), taken);
  const start = (): Promise<LabChild> => startLabKms({ dataDir, port, logDir, autoUnsealFile: seal.autoUnsealFile });
  let kms: LabChild | undefined = await start();
  const servers = [{ name: 'kms-1', host: '127.0.0.1', port }];
  const check = (name: string): void => {
    if (name !== 'kms-1') throw unknownServer(name, servers);
  };
  return {
    mode: 'single', dataDir, seal, port, servers,
    get pids() {
      return kms === undefined ? [] : [{ name: 'kms', port, pid: kms.child.pid }];
    },
    async stopServer(name) {
      check(name);
      await kms?.stop();
      kms = undefined;
    },
    async startServer(name) {
      check(name);
      if (kms?.child.running() !== true) kms = await start();
    },
    stop: async () => kms?.stop(),
  };
}

/**
 * `--kms-cluster`: the 3-member etcd cluster and three stateless KMS nodes of `vmcrypt kms
 * cluster up` in DIR/kms-cluster (ports kept in its cluster.json), in provider order. The lab
 * makes the nodes' shared data dir itself so that it can keep the unseal shares.
 */
export async function startClusterKms(dir: string, log: (line: string) => void = () => {}): Promise<LabKms> {
  const seal = labSealFiles(dir, 'cluster');
  await makePrivateDir(join(dir, 'kms-cluster'));
  await ensureSealedLabKms(join(dir, 'kms-cluster', 'kms'), seal, log);
  const cluster: KmsCluster = await startKmsCluster({ dir: join(dir, 'kms-cluster'), kmsNodes: 3, etcdMembers: 3 });
  const servers = cluster.nodes.map((n, i) => {
    const port = Number(n.address.split(':').at(-1));
    return { name: `kms-${i + 1}`, host: '127.0.0.1', port };
  });
  const node = (name: string) => {
    const i = servers.findIndex((s) => s.name === name);
    const n = cluster.nodes[i];
    if (n === undefined) throw unknownServer(name, servers);
    return n;
  };
  return {
    mode: 'cluster', dataDir: cluster.kmsDataDir, seal, servers, pids: [],
    stopServer: async (name) => node(name).stop(),
    startServer: async (name) => node(name).start(),
    stop: () => cluster.stop(),
  };
}
