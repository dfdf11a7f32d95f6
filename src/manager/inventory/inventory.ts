import type { AncestryResolver, HostCryptoMode, InventoryView, KeyRef, KeyService, Platform } from '../contracts.js';
import { createAncestryResolver } from './ancestry.js';
import { PinnedHostGateway, type ManagerClientIdentity } from './hosts/host-gateway.js';
import { HostConnections } from './hosts/host-connections.js';
import { HostMonitor, type HostMonitorOptions } from './hosts/host-monitor.js';
import { VmObserver } from './hosts/vm-observer.js';
import { Reconciler, STEPS } from './reconcile.js';
import { CRYPTO_STEPS } from './ops/crypto-steps.js';
import { OpLocks } from './ops/op-locks.js';
import { VmOpsService } from './ops/ops-service.js';
import { SpaceCheck } from './ops/space-check.js';
import { SnapshotOps } from './ops/snapshot-ops.js';
import { VmFeatures } from './ops/vm-features.js';
import { CopyOps } from './ops/copy-ops.js';
import { COPY_STEPS } from './ops/clone-steps.js';
import { VmSettingsStore } from './ops/vm-settings-store.js';
import { DatastoreStore } from './store/datastore-store.js';
import { HostStore } from './store/host-store.js';
import { OperationStore } from './store/operation-store.js';
import { PolicyStore } from './store/policy-store.js';
import { TreeStore } from './store/tree-store.js';
import { VmStore } from './store/vm-store.js';
import { VmService } from './vms/vm-service.js';

export interface InventoryOptions {
  readonly platform: Platform;
  /** The manager's client certificate (hosts pin it at pairing). */
  readonly identity: ManagerClientIdentity;
  /** Key management, built after the inventory (it reads the inventory): resolved at use. */
  readonly keys: () => KeyService;
  readonly monitor?: HostMonitorOptions;
  /** VM encryption operations running at once on one host (default 2); one at a time per VM. */
  readonly opsPerHost?: number;
  /** Bound on connecting to a host (default 10 s). */
  readonly hostConnectTimeoutMs?: number;
}

/** Everything the inventory part offers: the view key management reads, and the services its routes call. */
export interface Inventory {
  readonly view: InventoryView;
  readonly ancestry: AncestryResolver;
  readonly tree: TreeStore;
  readonly hosts: HostStore;
  readonly datastores: DatastoreStore;
  readonly policies: PolicyStore;
  readonly vms: VmStore;
  readonly ops: OperationStore;
  readonly gateway: PinnedHostGateway;
  readonly monitor: HostMonitor;
  readonly connections: HostConnections;
  readonly reconciler: Reconciler;
  readonly vmService: VmService;
  readonly settings: VmSettingsStore;
  readonly vmOps: VmOpsService;
  readonly snapshots: SnapshotOps;
  readonly features: VmFeatures;
  readonly backups: CopyOps;
  readonly platform: Platform;
  readonly keys: () => KeyService;
}

export function createInventory(o: InventoryOptions): Inventory {
  const { platform } = o;
  const { db, events, log } = platform;
  const tree = new TreeStore(db);
  const hosts = new HostStore(db);
  const datastores = new DatastoreStore(db);
  const policies = new PolicyStore(db);
  const vms = new VmStore(db);
  const ops = new OperationStore(db);
  const gateway = new PinnedHostGateway(hosts, o.identity, { connectTimeoutMs: o.hostConnectTimeoutMs ?? 10_000 });
  const observer = new VmObserver({ vms, datastores, policies, hosts, events, log });
  const monitor = new HostMonitor({ hosts, gateway, observer, keys: o.keys, events, log, metrics: platform.metrics }, o.monitor);
  const connections = new HostConnections({ hosts, datastores, vms, gateway, monitor, events });
  const reconciler = new Reconciler({ vms, ops, policies, datastores, hosts: gateway, keys: o.keys, events }, { ...STEPS, ...CRYPTO_STEPS, ...COPY_STEPS });
  const settings = new VmSettingsStore(db);
  const locks = new OpLocks(o.opsPerHost ?? 2);
  const space = new SpaceCheck(gateway, events);
  const vmOps = new VmOpsService({
    vms, ops, policies, datastores, settings, gateway, reconciler, locks, space,
    access: platform.access, tasks: platform.tasks, events,
  });
  const snapshots = new SnapshotOps({ vms, gateway, locks, events });
  const features = new VmFeatures({ vms, policies, settings, gateway, events });
  const backups = new CopyOps({
    vms, ops, hosts, policies, datastores, settings, gateway, reconciler, locks, space, access: platform.access, tasks: platform.tasks,
  });
  const vmService = new VmService({
    vms, ops, hosts, datastores, policies, tree, gateway, observer, reconciler,
    access: platform.access, tasks: platform.tasks, events, keys: o.keys,
  });
  const view: InventoryView = {
    hosts: gateway,
    host: (id) => hosts.host(id),
    listHosts: () => hosts.list(),
    cluster: (id) => tree.cluster(id),
    clusterHosts: (id) => hosts.inCluster(id),
    vm: (id) => vms.vm(id),
    listVms: () => vms.list(),
    vmsOnHost: (id) => vms.onHost(id),
    setHostCrypto: (id: string, mode: HostCryptoMode, hostKey?: KeyRef) => hosts.setCrypto(id, mode, hostKey),
  };
  return {
    view, ancestry: createAncestryResolver(db), tree, hosts, datastores, policies, vms, ops, gateway, monitor, connections,
    reconciler, vmService, settings, vmOps, snapshots, features, backups, platform, keys: o.keys,
  };
}
