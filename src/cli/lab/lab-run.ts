import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:net';
import { join, resolve } from 'node:path';
import { makePrivateDir } from '../../fs/private-files.js';
import { startLabHostAgent, startLabManager, type LabHostProcess, type LabManagerProcess } from './components.js';
import { labSocketPath, serveLabControl } from './control.js';
import { LabError, LabErrorCode } from './errors.js';
import { ensureInventory, type InventoryResult } from './inventory-setup.js';
import { ensureKeyProvider, type ProviderResult } from './key-provider-setup.js';
import { startClusterKms, startSingleKms, type LabKms } from './kms-setup.js';
import { LabManagerClient } from './manager-client.js';
import { DEFAULT_PORTS, pickPort, portIsFree } from './ports.js';
import { initialAdminPasswordFile, labSession } from './session.js';
import { readLabState, writeLabState, type LabComponent, type LabState } from './state.js';

export interface LabOptions {
  readonly dir: string;
  readonly hosts: number;
  readonly managers: number;
  readonly kmsCluster: boolean;
  /** Every port chosen by the OS (tests; several labs side by side) instead of the well-known ones. */
  readonly freePorts: boolean;
  readonly log: (line: string) => void;
}

export interface RunningLab {
  readonly dir: string;
  readonly consoleUrl: string;
  readonly thumbprint: string;
  readonly adminUser: string;
  readonly adminPasswordFile: string;
  readonly profilePath: string;
  readonly kms: LabKms;
  readonly provider: ProviderResult;
  readonly inventory: InventoryResult;
  readonly managers: readonly LabManagerProcess[];
  /** The first manager's hosts. */
  readonly hosts: readonly LabHostProcess[];
  /** Hosts of the further managers (`--managers 2` with hosts: `host-m2`), on the same shared directory. */
  readonly managerHosts: ReadonlyArray<{ readonly manager: string; readonly host: LabHostProcess }>;
  /** Resolves when `lab down` (the control socket) asks the lab to stop. */
  readonly stopRequested: Promise<void>;
  stop(): Promise<void>;
}

const managerDataDir = (dir: string, i: number): string => join(dir, i === 1 ? 'manager' : `manager-${i}`);
const hostDataDir = (dir: string, name: string): string => join(dir, name);
/** The host agent of manager N ≥ 2 (one each, when the lab has hosts at all). */
const managerHostName = (n: number): string => `host-m${n}`;
const isManagerHost = (name: string): boolean => /^host-m\d+$/.test(name);

function portFor(recorded: readonly LabComponent[], name: string): number | undefined {
  return recorded.find((c) => c.name === name)?.port;
}

/**
 * Brings the lab up: KMS, managers and host agents as processes of their own, then the setup an
 * operator would do through the first manager's API. Everything is idempotent, so a second run
 * on the same DIR reuses the data (same keys, same VMs) and only starts the processes again.
 */
export async function runLab(o: LabOptions): Promise<RunningLab> {
  const dir = resolve(o.dir);
  await makePrivateDir(dir);
  const logDir = join(dir, 'logs');
  await makePrivateDir(logDir);
  const sharedDir = join(dir, 'shared');
  await mkdir(sharedDir, { recursive: true, mode: 0o700 });

  const previous = await readLabState(dir);
  const kmsMode = o.kmsCluster ? 'cluster' : 'single';
  if (previous !== undefined && previous.kmsMode !== kmsMode) {
    throw new LabError(LabErrorCode.MODE_MISMATCH, `${dir} was created with ${previous.kmsMode === 'cluster' ? '--kms-cluster' : 'a single KMS'}: run it the same way, or use another --dir`);
  }
  const socket = labSocketPath(dir);
  const stopper: { resolve: () => void } = { resolve: () => undefined };
  const stopRequested = new Promise<void>((r) => (stopper.resolve = r));
  let hostsByName = new Map<string, LabHostProcess>();
  let kms: LabKms | undefined;
  // The socket first: it refuses a second lab on the same DIR before any process starts.
  const control: Server = await serveLabControl(socket, {
    restartHost: async (name) => restartHost(name),
    stopKms: async (name) => {
      if (kms === undefined) throw new LabError(LabErrorCode.CONTROL_FAILED, 'the lab is still starting');
      await kms.stopServer(name);
      o.log(`lab: key server ${name} stopped`);
    },
    startKms: async (name) => {
      if (kms === undefined) throw new LabError(LabErrorCode.CONTROL_FAILED, 'the lab is still starting');
      await kms.startServer(name);
      o.log(`lab: key server ${name} started`);
    },
    stop: () => stopper.resolve(),
    status: () => ({ dir, pid: process.pid, hosts: [...hostsByName.values()].map((h) => ({ name: h.name, url: h.url, pid: h.child.pid })) }),
  });

  const taken = new Set<number>();
  const managers: LabManagerProcess[] = [];
  const stopAll = async (): Promise<void> => {
    // hosts first (they power their VMs off), then managers, then the key servers
    await Promise.all([...hostsByName.values()].map((h) => h.stop()));
    await Promise.all(managers.map((m) => m.stop()));
    await kms?.stop();
    await new Promise<void>((r) => control.close(() => r()));
  };

  let state: LabState;
  const saveRun = async (phase: 'starting' | 'ready', consoleUrl?: string): Promise<void> => {
    state = {
      version: 1, kmsMode, ...(kms?.port === undefined ? {} : { kmsPort: kms.port }),
      managers: managers.map((m, i) => ({ name: `manager-${i + 1}`, port: Number(new URL(m.url).port) })),
      hosts: [...hostsByName.values()].map((h) => ({ name: h.name, port: Number(new URL(h.url).port) })),
      run: {
        pid: process.pid, socket, state: phase, ...(consoleUrl === undefined ? {} : { consoleUrl }),
        children: [
          ...(kms?.pids ?? []),
          ...managers.map((m, i) => ({ name: `manager-${i + 1}`, port: Number(new URL(m.url).port), pid: m.child.pid })),
          ...[...hostsByName.values()].map((h) => ({ name: h.name, port: Number(new URL(h.url).port), pid: h.child.pid })),
        ],
      },
    };
    await writeLabState(dir, state);
  };

  const hostPort = async (name: string, i: number): Promise<number> => {
    const recorded = previous === undefined ? undefined : portFor(previous.hosts, name);
    if (recorded === undefined) return pickPort(o.freePorts ? undefined : DEFAULT_PORTS.hostBase + i, taken);
    // the manager knows the host by this URL: it must come back on the same port
    if (!(await portIsFree(recorded))) throw new LabError(LabErrorCode.START_FAILED, `port ${recorded} of ${name} (recorded in ${dir}/lab.json) is busy: free it and run again`);
    taken.add(recorded);
    return recorded;
  };

  async function restartHost(name: string): Promise<Record<string, unknown>> {
    const h = hostsByName.get(name);
    if (h === undefined) throw new LabError(LabErrorCode.CONTROL_FAILED, `no host ${name} in this lab (${[...hostsByName.keys()].join(', ')})`);
    const port = Number(new URL(h.url).port);
    o.log(`lab: restarting host agent ${name}`);
    await h.stop();
    const again = await startLabHostAgent({ name, dataDir: hostDataDir(dir, name), port, logDir });
    hostsByName = new Map(hostsByName).set(name, again);
    await saveRun('ready', managers[0] === undefined ? undefined : `${managers[0].url}/`);
    o.log(`lab: host agent ${name} is back on ${again.url} (empty key cache; the manager pushes the keys again)`);
    return { name, url: again.url, pid: again.child.pid };
  }

  try {
    kms = o.kmsCluster
      ? await startClusterKms(dir, o.log)
      : await startSingleKms(dir, logDir, previous?.kmsPort, taken, o.freePorts, o.log);
    const managerStarts: Array<Promise<LabManagerProcess>> = [];
    for (let i = 1; i <= o.managers; i++) {
      const recorded = previous === undefined ? undefined : portFor(previous.managers, `manager-${i}`);
      const port = await pickPort(recorded ?? (o.freePorts ? undefined : i === 1 ? DEFAULT_PORTS.manager : DEFAULT_PORTS.manager + i - 1), taken);
      managerStarts.push(startLabManager({ name: `manager-${i}`, dataDir: managerDataDir(dir, i), port, logDir }));
    }
    const hostStarts: Array<Promise<LabHostProcess>> = [];
    for (let i = 1; i <= o.hosts; i++) {
      const name = `host-${i}`;
      hostStarts.push(hostPort(name, i).then((port) => startLabHostAgent({ name, dataDir: hostDataDir(dir, name), port, logDir })));
    }
    for (let n = 2; o.hosts > 0 && n <= o.managers; n++) {
      const name = managerHostName(n);
      hostStarts.push(hostPort(name, 20 + n).then((port) => startLabHostAgent({ name, dataDir: hostDataDir(dir, name), port, logDir })));
    }
    const settled = await Promise.allSettled([...managerStarts, ...hostStarts]);
    for (const s of settled.slice(0, o.managers)) if (s.status === 'fulfilled') managers.push(s.value as LabManagerProcess);
    for (const s of settled.slice(o.managers)) if (s.status === 'fulfilled') hostsByName.set((s.value as LabHostProcess).name, s.value as LabHostProcess);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    await saveRun('starting');

    // The operator's setup, through the first manager's API.
    const first = managers[0] as LabManagerProcess;
    const anon = new LabManagerClient(first.url, first.thumbprint);
    const { api, profilePath } = await labSession(anon, dir, managerDataDir(dir, 1));
    const provider = await ensureKeyProvider(api, kms.dataDir, kms.servers);
    const inventory = await ensureInventory(api, [...hostsByName.values()].filter((h) => !isManagerHost(h.name)), sharedDir);
    // Further managers share the key provider (same KMS, same client identity: the KMS lets a
    // client read only keys of its own identity) and get one host on the same shared directory,
    // so VMs migrate and clone between the managers.
    for (const [i, m] of managers.slice(1).entries()) {
      const n = i + 2;
      const s = await labSession(new LabManagerClient(m.url, m.thumbprint), dir, managerDataDir(dir, n), join(dir, `profile-manager-${n}.json`));
      await ensureKeyProvider(s.api, kms.dataDir, kms.servers);
      const own = hostsByName.get(managerHostName(n));
      if (own !== undefined) {
        await ensureInventory(s.api, [own], sharedDir, { demoVm: false });
        o.log(`lab: manager-${n} has host ${own.name} ${own.url} on datastore shared (${sharedDir})`);
      }
    }
    const consoleUrl = `${first.url}/`;
    await saveRun('ready', consoleUrl);
    const lab: RunningLab = {
      dir, consoleUrl, thumbprint: first.thumbprint, adminUser: 'admin',
      adminPasswordFile: initialAdminPasswordFile(managerDataDir(dir, 1)),
      profilePath, kms, provider, inventory, managers,
      get hosts() {
        return [...hostsByName.values()].filter((h) => !isManagerHost(h.name));
      },
      get managerHosts() {
        return [...hostsByName.values()].filter((h) => isManagerHost(h.name)).map((h) => ({ manager: `manager-${h.name.slice('host-m'.length)}`, host: h }));
      },
      stopRequested,
      async stop() {
        await stopAll();
        const { run: _run, ...kept } = state;
        await writeLabState(dir, kept);
      },
    };
    return lab;
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
}
