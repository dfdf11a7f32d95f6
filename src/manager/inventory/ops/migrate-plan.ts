import { randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { vmRef, Privilege, type AccessChecker, type EventPoster, type HostGateway, type HostRecord, type KeyService, type Principal, type TaskStarter } from '../../contracts.js';
import { ManagerError } from '../../errors.js';
import { parseHostVm, type HostVm } from '../hosts/host-replies.js';
import type { DatastoreRecord, DatastoreStore } from '../store/datastore-store.js';
import type { HostStore } from '../store/host-store.js';
import type { OperationStore } from '../store/operation-store.js';
import type { VmDetail, VmStore } from '../store/vm-store.js';
import { hostCapability } from './migrate-host.js';
import { chooseChannel, type ChannelChoice } from './migrate-policy.js';
import type { MigratingVms } from './migrate-registry.js';
import { refuse, VmRule } from './rules.js';
import type { VmSettingsStore } from './vm-settings-store.js';

export interface MigrateDeps {
  readonly db: Database;
  readonly vms: VmStore;
  readonly hosts: HostStore;
  readonly datastores: DatastoreStore;
  readonly settings: VmSettingsStore;
  readonly ops: OperationStore;
  readonly gateway: HostGateway;
  readonly keys: () => KeyService;
  readonly access: AccessChecker;
  readonly tasks: TaskStarter;
  readonly events: EventPoster;
  readonly migrating: MigratingVms;
  /** Runs the migration as an operation on the VM (after the ones queued before it). */
  readonly exclusive: <T>(vmId: string, hostId: () => string, fn: () => Promise<T>) => Promise<T>;
  readonly log?: Pick<Logger, 'warn'>;
}

export interface MigrateRequest {
  /** Destination host id or name (absent = stay on the VM's host). */
  readonly host?: string;
  /** Destination datastore id or name (absent = stay on the VM's datastore). */
  readonly datastore?: string;
}

/** Everything a migration needs, checked before anything moves. */
export interface MigratePlan {
  readonly migrationId: string;
  readonly vm: VmDetail;
  readonly hv: HostVm;
  readonly source: HostRecord;
  /** Another host (absent: storage migration only). */
  readonly dest?: HostRecord;
  /** Another datastore, with its name on the source host (the host relocates there first). */
  readonly relocate?: { readonly ds: DatastoreRecord; readonly mount: string };
  readonly targetDs: DatastoreRecord;
  /** Running VM to another host: a stream, on this channel. */
  readonly live?: ChannelChoice;
}

export function findHost(hosts: HostStore, ref: string): HostRecord {
  const h = hosts.host(ref) ?? hosts.list().find((x) => x.name === ref);
  if (h === undefined) throw new ManagerError('MANAGER_NOT_FOUND', `host ${ref} not found`);
  return h;
}

export function findDatastore(ds: DatastoreStore, ref: string): DatastoreRecord {
  const d = ds.datastore(ref) ?? ds.byName(ref);
  if (d === undefined) throw new ManagerError('MANAGER_NOT_FOUND', `datastore ${ref} not found`);
  return d;
}

export async function readHostVm(gw: HostGateway, hostId: string, vmId: string): Promise<HostVm> {
  return parseHostVm(await gw.call(hostId, 'GET', `/v1/vms/${vmId}`));
}

/**
 * Checks a migration within this manager: the VM exists and is not migrating nor in the middle
 * of an unfinished operation, the destination exists, a host change keeps the VM on a datastore
 * both hosts mount, Cryptographer.Migrate for an encrypted VM, and the migrateEncryption matrix
 * against both hosts' capabilities (a refusal names its rule).
 */
export async function planMigration(d: MigrateDeps, vmId: string, req: MigrateRequest, who: Principal): Promise<MigratePlan> {
  if (req.host === undefined && req.datastore === undefined) throw new ManagerError('MANAGER_BAD_REQUEST', 'body: give host, datastore or both');
  const vm = d.vms.require(vmId);
  if (!vm.provisioned) throw refuse(VmRule.PROVISIONED, `VM ${vm.name} has not been created on its host yet`);
  d.migrating.refuseWhileMigrating(vm.id, 'another migration');
  const open = d.ops.open(vm.id);
  if (open !== undefined) throw refuse(VmRule.FINISH_FAILED_FIRST, `VM ${vm.name} has an unfinished ${open.kind} (${open.state}); finish it before migrating`);
  const source = d.hosts.require(vm.hostId);
  const hv = await readHostVm(d.gateway, source.id, vm.id);
  if (hv.observation.encrypted) d.access.check(who, Privilege.CRYPTO_MIGRATE, vmRef(vm.id));
  if (hv.observation.locked) throw refuse(VmRule.UNLOCKED, `VM ${vm.name} is locked (${hv.observation.lockReason ?? 'a key is missing on its host'}): unlock it before migrating`);
  const destHost = req.host === undefined ? undefined : findHost(d.hosts, req.host);
  const dest = destHost === undefined || destHost.id === source.id ? undefined : destHost;
  const targetDs = req.datastore === undefined ? d.datastores.require(vm.datastoreId) : findDatastore(d.datastores, req.datastore);
  const moveDs = targetDs.id !== vm.datastoreId;
  if (dest === undefined && !moveDs) throw new ManagerError('MANAGER_CONFLICT', `VM ${vm.name} is already on host ${source.name} and datastore ${targetDs.name}`);
  let relocate: MigratePlan['relocate'];
  if (moveDs) {
    const mount = d.datastores.mountName(targetDs.id, source.id);
    if (mount === undefined) throw refuse(VmRule.MIGRATE_SHARED_DATASTORE, `datastore ${targetDs.name} is not mounted on host ${source.name}, where the VM's files are copied from`);
    relocate = { ds: targetDs, mount };
  }
  if (dest !== undefined) {
    if (d.datastores.mountName(targetDs.id, dest.id) === undefined) {
      throw refuse(VmRule.MIGRATE_SHARED_DATASTORE, `datastore ${targetDs.name} is not mounted on host ${dest.name}: a VM moves between hosts through a datastore both mount`);
    }
    if (dest.connectionState !== 'connected') throw new ManagerError('MANAGER_HOST_UNREACHABLE', `host ${dest.name} is ${dest.connectionState}`);
  }
  let live: ChannelChoice | undefined;
  if (dest !== undefined && hv.observation.powerState === 'poweredOn') {
    const [sc, dc] = await Promise.all([hostCapability(d.gateway, source.id), hostCapability(d.gateway, dest.id)]);
    live = chooseChannel(d.settings.get(vm.id).migrateEncryption, hv.observation.encrypted, sc, dc, { vm: vm.name, source: source.name, destination: dest.name });
  }
  return {
    migrationId: randomUUID(), vm, hv, source, targetDs,
    ...(dest === undefined ? {} : { dest }), ...(relocate === undefined ? {} : { relocate }), ...(live === undefined ? {} : { live }),
  };
}
