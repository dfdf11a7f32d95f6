import { randomUUID } from 'node:crypto';
import { vmRef, Privilege, type Principal, type TaskInfo, type TaskProgress } from '../../contracts.js';
import { ManagerError } from '../../errors.js';
import { isHostRefusal } from '../hosts/host-gateway.js';
import { hostCapability, runSourceMigrate, type MigrationResult } from '../ops/migrate-host.js';
import { OneTimeKey } from '../ops/migrate-key.js';
import { readHostVm, type MigrateDeps } from '../ops/migrate-plan.js';
import { distinctVmKeys, reportStream, type MigrateOutcome } from '../ops/migrate-service.js';
import { refuse, VmRule } from '../ops/rules.js';
import type { PolicyStore } from '../store/policy-store.js';
import { callPeer, type PeerRef } from './peer-manager.js';
import type { IncomingAnswer, IncomingRequest } from './wire.js';

export interface AcrossRequest {
  readonly manager: PeerRef;
  /** Host id or name in the destination manager's inventory. */
  readonly host: string;
  readonly datastore?: string;
  /** This manager as the destination's events name it (its address as the caller used it). */
  readonly self?: string;
}

export type PeerCall = <T>(peer: PeerRef, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) => Promise<T>;

/**
 * Migration to another manager sharing the key provider (cross-vCenter vMotion, seed 001): this
 * manager drives, the destination manager prepares its host (keys fetched from the shared
 * provider there), the stream (or, powered off, the re-registration) runs between the hosts,
 * then the destination adds the VM and this manager forgets it.
 */
export class OutgoingMigrations {
  readonly #d: MigrateDeps;
  readonly #policies: PolicyStore;
  readonly #call: PeerCall;

  constructor(d: MigrateDeps, policies: PolicyStore, call: PeerCall = callPeer) {
    this.#d = d;
    this.#policies = policies;
    this.#call = call;
  }

  /** Checks done before anything moves; the destination's refusals come back from its prepare. */
  async #check(vmId: string, who: Principal, ownMigration?: string): Promise<{ hv: Awaited<ReturnType<typeof readHostVm>> }> {
    const vm = this.#d.vms.require(vmId);
    if (!vm.provisioned) throw refuse(VmRule.PROVISIONED, `VM ${vm.name} has not been created on its host yet`);
    if (this.#d.migrating.get(vm.id)?.migrationId !== ownMigration) this.#d.migrating.refuseWhileMigrating(vm.id, 'another migration');
    const open = this.#d.ops.open(vm.id);
    if (open !== undefined) throw refuse(VmRule.FINISH_FAILED_FIRST, `VM ${vm.name} has an unfinished ${open.kind} (${open.state}); finish it before migrating`);
    const hv = await readHostVm(this.#d.gateway, vm.hostId, vm.id);
    if (hv.observation.encrypted) this.#d.access.check(who, Privilege.CRYPTO_MIGRATE, vmRef(vm.id));
    if (hv.observation.locked) throw refuse(VmRule.UNLOCKED, `VM ${vm.name} is locked: unlock it before migrating`);
    return { hv };
  }

  async migrate(vmId: string, req: AcrossRequest, who: Principal): Promise<TaskInfo> {
    await this.#check(vmId, who);
    const vm = this.#d.vms.require(vmId);
    const migrationId = randomUUID();
    this.#d.migrating.begin(vm.id, { migrationId, vmName: vm.name, to: `manager ${req.manager.url} host ${req.host}`, startedAt: new Date().toISOString() });
    try {
      return this.#d.tasks.start({ kind: 'vm.migrate', entity: vmRef(vm.id), user: who.user }, (progress) =>
        this.#d.exclusive(vm.id, () => vm.hostId, () => this.run(vm.id, migrationId, 'migrate', req, who, progress))
          .finally(() => this.#d.migrating.end(vm.id, migrationId)));
    } catch (err) {
      this.#d.migrating.end(vm.id, migrationId);
      throw err;
    }
  }

  /** The whole exchange (also the second half of a cross-manager clone, on the powered-off copy). */
  async run(vmId: string, migrationId: string, purpose: 'migrate' | 'clone', req: AcrossRequest, who: Principal, progress: TaskProgress): Promise<MigrateOutcome> {
    const { hv } = await this.#check(vmId, who, migrationId);
    const vm = this.#d.vms.require(vmId);
    const source = this.#d.hosts.require(vm.hostId);
    const live = hv.observation.powerState === 'poweredOn';
    const keys = distinctVmKeys(vm.keys);
    const otk = live ? new OneTimeKey() : undefined;
    const body: IncomingRequest = {
      migrationId, purpose, mode: live ? 'live' : 'cold', sourceManager: req.self ?? 'unknown',
      vm: {
        id: vm.id, name: vm.name, vmxPath: hv.vmx, encrypted: hv.observation.encrypted, keys, migrateEncryption: this.#d.settings.get(vm.id).migrateEncryption,
        ...(this.#policies.policy(vm.policyId) === undefined ? {} : { policyName: this.#policies.require(vm.policyId).name }),
      },
      host: req.host, ...(req.datastore === undefined ? {} : { datastore: req.datastore }),
      ...(live ? { source: await hostCapability(this.#d.gateway, source.id) } : {}),
      ...(otk === undefined ? {} : otk.fields()),
    };
    const entity = vmRef(vm.id);
    const to = `manager ${req.manager.url}`;
    let prepared: IncomingAnswer | undefined;
    let switched = false;
    try {
      progress.update({ percent: 5, message: `asking ${to} to prepare host ${req.host}` });
      prepared = await this.#call<IncomingAnswer>(req.manager, 'POST', '/api/migrations/incoming', body);
      const data = { migrationId, from: source.name, to: req.manager.url, ...(prepared.channel === undefined ? {} : { channel: prepared.channel }) };
      if (prepared.encrypted) this.#d.events.post({ type: 'vm.migratingWithEncryption', severity: 'info', entity, user: who.user, data, message: `VM ${vm.name} migrates to ${to} encrypted (${prepared.channel ?? '?'}, one-time AES-256-GCM key)` });
      else if (prepared.fellBack !== undefined) this.#d.events.post({ type: 'vm.migration.plain', severity: 'warning', entity, user: who.user, data, message: `VM ${vm.name} migrates to ${to} NOT encrypted: ${prepared.fellBack}` });
      let result: MigrationResult | undefined;
      if (live) {
        const ep = prepared.endpoint;
        if (ep === undefined || prepared.channel === undefined) throw new ManagerError('MANAGER_CONFLICT', `${to} prepared no endpoint for the stream`);
        const channel = prepared.channel as 'tunnel' | 'qemu-psk' | 'plain';
        result = await runSourceMigrate(this.#d.gateway, source.id, vm.id, {
          migrationId, channel, endpoint: ep, ...(prepared.encrypted && otk !== undefined ? { secret: otk.fields() } : {}),
        }, (p) => reportStream(progress, p));
      } else {
        progress.update({ percent: 50, message: `unregistering VM ${vm.name} from host ${source.name}` });
        await this.#d.gateway.call(source.id, 'DELETE', `/v1/vms/${vm.id}`);
      }
      switched = true;
      otk?.zero();
      progress.update({ percent: 96, message: `${to} adds the VM to its inventory` });
      try {
        await this.#commit(req.manager, migrationId, result);
      } finally {
        // the VM is the destination's now, whether or not it heard the commit
        this.#d.vms.delete(vm.id);
      }
      await this.#d.keys().dropUnneeded?.(source.id, keys).catch((e: unknown) => this.#d.log?.warn({ err: (e as Error).message }, 'dropping migrated keys failed'));
      const out: MigrateOutcome = {
        vmId: vm.id, migrationId, mode: live ? 'live' : 'cold', hostId: prepared.hostId, datastoreId: prepared.datastoreId, encrypted: prepared.encrypted,
        ...(prepared.channel === undefined ? {} : { channel: prepared.channel }),
        bytes: result?.bytes ?? 0, seconds: result?.seconds ?? 0, mbPerSec: result?.mbPerSec ?? 0, downtimeMs: result?.downtimeMs ?? 0,
      };
      this.#d.events.post({
        type: 'vm.migrated', severity: 'info', entity, user: who.user,
        message: `VM ${vm.name} ${purpose === 'clone' ? '(a clone) ' : ''}moved to ${to}, host ${req.host} (${out.mode}${out.channel === undefined ? '' : `, ${out.encrypted ? 'encrypted' : 'plain'} over ${out.channel}`}); it is no longer in this inventory`,
        data: { migrationId, mode: out.mode, from: source.name, to: req.manager.url, encrypted: out.encrypted, bytes: out.bytes, downtimeMs: out.downtimeMs },
      });
      return out;
    } catch (err) {
      if (prepared !== undefined && !switched) await this.#call(req.manager, 'DELETE', `/api/migrations/${migrationId}`).catch(() => undefined);
      const message = `${switched ? 'the VM runs on the destination host, but ' : ''}${err instanceof Error ? err.message : String(err)}`;
      this.#d.events.post({ type: 'vm.migrationFailed', severity: 'error', entity, user: who.user, message: `migration of VM ${vm.name} to ${to} failed: ${message.slice(0, 512)}`, data: { migrationId } });
      throw isHostRefusal(err) ? new ManagerError('MANAGER_CONFLICT', `the host refused: ${err.message} [${err.code}]`) : err;
    } finally {
      otk?.zero();
    }
  }

  /** The VM now runs (or is registered) there: a lost commit is retried, the move itself is done. */
  async #commit(peer: PeerRef, migrationId: string, r: MigrationResult | undefined): Promise<void> {
    const body = r === undefined ? {} : { bytes: r.bytes, downtimeMs: r.downtimeMs, mbPerSec: r.mbPerSec, channel: r.channel };
    for (let i = 0; ; i++) {
      try {
        await this.#call(peer, 'POST', `/api/migrations/${migrationId}/commit`, body);
        return;
      } catch (err) {
        if (i >= 2 || (err as ManagerError).code !== 'MANAGER_HOST_UNREACHABLE') throw err;
        await new Promise((res) => setTimeout(res, 1000));
      }
    }
  }
}
