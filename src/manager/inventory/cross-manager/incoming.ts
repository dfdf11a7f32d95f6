import { vmRef, EntityKind, Privilege, type KeyRef, type Principal } from '../../contracts.js';
import { ManagerError } from '../../errors.js';
import { isHostRefusal } from '../hosts/host-gateway.js';
import { abortIncoming, hostCapability, prepareIncoming } from '../ops/migrate-host.js';
import { findDatastore, findHost, readHostVm, type MigrateDeps } from '../ops/migrate-plan.js';
import { chooseChannel, type MigrationChannel } from '../ops/migrate-policy.js';
import { moveVmRecord } from '../ops/migrate-store.js';
import { refuse, VmRule } from '../ops/rules.js';
import { BUILT_IN_POLICY, type PolicyStore } from '../store/policy-store.js';
import type { CommitRequest, IncomingAnswer, IncomingRequest } from './wire.js';

interface Pending {
  readonly req: IncomingRequest;
  readonly vmId: string;
  readonly hostId: string;
  readonly user: string;
  readonly timer: NodeJS.Timeout;
}

/** A prepared incoming VM nobody commits nor aborts is dropped after this long. */
const PENDING_MS = 15 * 60_000;

/**
 * The destination manager's side of a cross-manager migration or clone (seed 001: "source and
 * destination vCenter Server instances must be connected to the same KMS cluster"): it refuses
 * before anything moves when it does not know the key provider of every key of the VM, fetches
 * the KEKs from the shared provider itself, pushes them to its host, prepares the incoming side
 * and adds the VM to its inventory when the source manager commits.
 */
export class IncomingMigrations {
  readonly #d: MigrateDeps;
  readonly #policies: PolicyStore;
  readonly #pending = new Map<string, Pending>();

  constructor(d: MigrateDeps, policies: PolicyStore) {
    this.#d = d;
    this.#policies = policies;
  }

  async prepare(req: IncomingRequest, who: Principal): Promise<IncomingAnswer> {
    const vm = req.vm;
    if (req.purpose === 'migrate') this.#d.access.check(who, Privilege.VM_MIGRATE);
    if (vm.encrypted) this.#d.access.check(who, req.purpose === 'migrate' ? Privilege.CRYPTO_MIGRATE : Privilege.CRYPTO_REGISTER_VM);
    if (this.#pending.has(req.migrationId)) throw new ManagerError('MANAGER_CONFLICT', `migration ${req.migrationId} is already prepared here`);
    const keys = this.#d.keys();
    const unknown = [...new Set(vm.keys.map((k) => k.providerId))].filter((p) => keys.knowsProvider?.(p) !== true);
    if (unknown.length > 0) {
      throw refuse(VmRule.MIGRATE_KEY_PROVIDER, `VM ${vm.name} has keys in key provider ${unknown.join(', ')}, which this manager does not know: nothing was moved (add the shared provider here, or keep the VM on its manager)`);
    }
    if (this.#d.vms.vm(vm.id) !== undefined) throw new ManagerError('MANAGER_CONFLICT', `VM ${vm.id} is already in this manager's inventory`);
    const host = findHost(this.#d.hosts, req.host);
    if (host.connectionState !== 'connected') throw new ManagerError('MANAGER_HOST_UNREACHABLE', `host ${host.name} is ${host.connectionState}`);
    const holding = this.#d.datastores.holding(host.id, vm.vmxPath);
    if (holding === undefined || (req.datastore !== undefined && findDatastore(this.#d.datastores, req.datastore).id !== holding.id)) {
      throw refuse(VmRule.MIGRATE_SHARED_DATASTORE, `host ${host.name} mounts no datastore${req.datastore === undefined ? '' : ` ${req.datastore}`} holding ${vm.vmxPath}: across managers the VM moves through a datastore both managers' hosts mount`);
    }
    let channel: MigrationChannel | undefined;
    let encrypted = false;
    let fellBack: string | undefined;
    if (req.mode === 'live') {
      const c = chooseChannel(vm.migrateEncryption, vm.encrypted, req.source ?? { encryption: false, channels: [] }, await hostCapability(this.#d.gateway, host.id),
        { vm: vm.name, source: `of manager ${req.sourceManager}`, destination: host.name });
      channel = c.channel;
      encrypted = c.encrypted;
      fellBack = c.fellBack;
      if (encrypted && (req.key === undefined || req.nonce === undefined)) throw new ManagerError('MANAGER_BAD_REQUEST', 'body.key: an encrypted migration needs the one-time key and nonce');
    }
    this.#d.migrating.begin(vm.id, { migrationId: req.migrationId, vmName: vm.name, to: `host ${host.name} (from manager ${req.sourceManager})`, startedAt: new Date().toISOString() });
    const policy = this.#policies.list().find((p) => p.name === vm.policyName && p.encryption === vm.encrypted)?.id
      ?? (vm.encrypted ? BUILT_IN_POLICY.VM_ENCRYPTION : BUILT_IN_POLICY.DATASTORE_DEFAULT);
    try {
      // provisional (not yet provisioned): the host monitor neither imports nor flags it meanwhile
      this.#d.vms.insert({ id: vm.id, name: vm.name, hostId: host.id, datastoreId: holding.id, policyId: policy, provisioned: false });
      moveVmRecord(this.#d.db, vm.id, { hostId: host.id, datastoreId: holding.id, vmxPath: vm.vmxPath });
      this.#d.settings.set(vm.id, { migrateEncryption: vm.migrateEncryption });
      if (vm.keys.length > 0) await keys.pushForVm(vm.id, vm.keys);
      let endpoint: IncomingAnswer['endpoint'];
      if (req.mode === 'live' && channel !== undefined) {
        endpoint = await prepareIncoming(this.#d.gateway, host.id, {
          migrationId: req.migrationId, vmId: vm.id, vmxPath: vm.vmxPath, channel,
          ...(encrypted && req.key !== undefined && req.nonce !== undefined ? { secret: { key: req.key, nonce: req.nonce } } : {}),
        });
      } else {
        try {
          await this.#d.gateway.call(host.id, 'POST', '/v1/vms/register', { vmx: vm.vmxPath });
        } catch (err) {
          if (!(isHostRefusal(err) && err.code === 'HOST_CONFLICT')) throw err;
        }
      }
      const timer = setTimeout(() => void this.abort(req.migrationId, { user: who.user }, 'nobody committed it in time').catch(() => undefined), PENDING_MS);
      timer.unref();
      this.#pending.set(req.migrationId, { req, vmId: vm.id, hostId: host.id, user: who.user, timer });
      return {
        migrationId: req.migrationId, vmId: vm.id, hostId: host.id, datastoreId: holding.id, encrypted,
        ...(channel === undefined ? {} : { channel }), ...(fellBack === undefined ? {} : { fellBack }), ...(endpoint === undefined ? {} : { endpoint }),
      };
    } catch (err) {
      await this.#undo(req, host.id, vm.keys, this.#d.vms.vm(vm.id) !== undefined);
      throw err;
    }
  }

  #take(migrationId: string, who: Principal): Pending {
    const p = this.#pending.get(migrationId);
    if (p === undefined) throw new ManagerError('MANAGER_NOT_FOUND', `no incoming migration ${migrationId} here`);
    if (p.user !== who.user) throw new ManagerError('MANAGER_FORBIDDEN', `incoming migration ${migrationId} belongs to user ${p.user}`);
    this.#pending.delete(migrationId);
    clearTimeout(p.timer);
    return p;
  }

  /** The source is done: the VM runs (or is registered) here now; it joins the inventory. */
  async commit(migrationId: string, result: CommitRequest, who: Principal): Promise<string> {
    const p = this.#take(migrationId, who);
    try {
      const hv = await readHostVm(this.#d.gateway, p.hostId, p.vmId);
      this.#d.vms.recordObserved(p.vmId, hv.observation);
      const host = this.#d.hosts.require(p.hostId);
      const what = p.req.purpose === 'clone' ? 'clone' : `${p.req.mode} migration`;
      this.#d.events.post({
        type: 'vm.migrated', severity: 'info', entity: vmRef(p.vmId), user: who.user,
        message: `VM ${p.req.vm.name} arrived on host ${host.name} from manager ${p.req.sourceManager} (${what}${result.channel === undefined ? '' : ` over ${result.channel}`})`,
        data: { migrationId, mode: p.req.mode, purpose: p.req.purpose, from: p.req.sourceManager, to: host.name, bytes: result.bytes ?? 0, downtimeMs: result.downtimeMs ?? 0 },
      });
      return p.vmId;
    } finally {
      this.#d.migrating.end(p.vmId, migrationId);
    }
  }

  /** The source failed or gave up: the incoming VM goes, its keys leave the host when unneeded. */
  async abort(migrationId: string, who: Principal, reason = 'the source manager aborted it'): Promise<void> {
    const p = this.#take(migrationId, who);
    await this.#undo(p.req, p.hostId, p.req.vm.keys, true);
    this.#d.events.post({
      type: 'vm.migrationFailed', severity: 'error', entity: { kind: EntityKind.HOST, id: p.hostId }, user: who.user,
      message: `incoming VM ${p.req.vm.name} from manager ${p.req.sourceManager} dropped: ${reason.slice(0, 256)}`, data: { migrationId },
    });
  }

  async #undo(req: IncomingRequest, hostId: string, keys: readonly KeyRef[], inserted: boolean): Promise<void> {
    const warn = (e: unknown): void => this.#d.log?.warn({ migration: req.migrationId, err: (e as Error).message }, 'undoing an incoming migration');
    if (req.mode === 'live') await abortIncoming(this.#d.gateway, hostId, req.migrationId).catch(warn);
    else await this.#d.gateway.call(hostId, 'DELETE', `/v1/vms/${req.vm.id}`).catch(warn);
    // the row is the one prepare inserted (it refuses a VM already known); the monitor may have marked it provisioned meanwhile
    if (this.#d.vms.vm(req.vm.id) !== undefined && inserted) this.#d.vms.delete(req.vm.id);
    if (keys.length > 0) await this.#d.keys().dropUnneeded?.(hostId, keys).catch(warn);
    this.#d.migrating.end(req.vm.id, req.migrationId);
  }
}
