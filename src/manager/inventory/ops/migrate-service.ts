import { vmRef, type KeyRef, type Principal, type TaskInfo, type TaskProgress } from '../../contracts.js';
import { ManagerError } from '../../errors.js';
import { isHostRefusal } from '../hosts/host-gateway.js';
import { parseHostVm } from '../hosts/host-replies.js';
import { abortIncoming, prepareIncoming, relocate, runSourceMigrate, type MigrationProgress, type MigrationResult } from './migrate-host.js';
import { OneTimeKey } from './migrate-key.js';
import { planMigration, readHostVm, type MigrateDeps, type MigratePlan, type MigrateRequest } from './migrate-plan.js';
import { moveVmRecord } from './migrate-store.js';

export interface MigrateOutcome {
  readonly vmId: string;
  readonly migrationId: string;
  readonly mode: 'live' | 'cold' | 'storage';
  readonly hostId: string;
  readonly datastoreId: string;
  readonly channel?: string;
  readonly encrypted: boolean;
  readonly bytes: number;
  readonly seconds: number;
  readonly mbPerSec: number;
  readonly downtimeMs: number;
}

export const distinctVmKeys = (keys: ReadonlyArray<{ key: KeyRef }>): KeyRef[] => [...new Map(keys.map((k) => [`${k.key.providerId}\u0000${k.key.keyId}`, k.key])).values()];

/**
 * Progress of a stream as the task shows it: bytes, rate and what remains. QEMU's totalBytes is
 * the guest RAM and its bytes are what went on the wire (a zero page costs a few bytes), so the
 * share done is the RAM no longer remaining, and the bytes expected are those sent plus those left.
 */
export function reportStream(progress: TaskProgress, p: MigrationProgress): void {
  const total = p.remainingBytes === undefined ? p.totalBytes : p.bytes + p.remainingBytes;
  const share = p.totalBytes !== undefined && p.totalBytes > 0 && p.remainingBytes !== undefined
    ? 1 - Math.min(p.remainingBytes, p.totalBytes) / p.totalBytes
    : total === undefined || total === 0 ? undefined : p.bytes / total;
  const pct = share === undefined ? undefined : Math.min(95, 10 + Math.floor(share * 85));
  const rate = p.mbPerSec === undefined ? '' : `, ${p.mbPerSec.toFixed(1)} MB/s`;
  const left = p.remainingBytes === undefined ? '' : `, ${Math.round(p.remainingBytes / 1048576)} MiB remaining`;
  progress.update({ ...(pct === undefined ? {} : { percent: pct }), bytesDone: p.bytes, ...(total === undefined ? {} : { bytesTotal: total }), message: `migrating memory${rate}${left}` });
}

/**
 * Migration within one manager (the vMotion role, issue 14): storage migration through the
 * host's relocate, cold migration by re-registering on the destination host, live migration
 * as a stream between the two hosts under a one-time key. The VM's KEKs reach the destination
 * before the switch-over and leave the source afterwards when the push rules allow.
 */
export class MigrationService {
  readonly #d: MigrateDeps;

  constructor(d: MigrateDeps) {
    this.#d = d;
  }

  get deps(): MigrateDeps {
    return this.#d;
  }

  async migrate(vmId: string, req: MigrateRequest, who: Principal): Promise<TaskInfo> {
    const plan = await planMigration(this.#d, vmId, req, who);
    const to = plan.dest === undefined ? `datastore ${plan.targetDs.name}` : `host ${plan.dest.name}${plan.relocate === undefined ? '' : ` on datastore ${plan.targetDs.name}`}`;
    this.#d.migrating.begin(plan.vm.id, { migrationId: plan.migrationId, vmName: plan.vm.name, to, startedAt: new Date().toISOString() });
    try {
      return this.#d.tasks.start({ kind: 'vm.migrate', entity: vmRef(plan.vm.id), user: who.user }, (progress) =>
        this.#d.exclusive(plan.vm.id, () => plan.source.id, () => this.#run(plan, who, to, progress))
          .finally(() => this.#d.migrating.end(plan.vm.id, plan.migrationId)));
    } catch (err) {
      this.#d.migrating.end(plan.vm.id, plan.migrationId);
      throw err;
    }
  }

  async #run(plan: MigratePlan, who: Principal, to: string, progress: TaskProgress): Promise<MigrateOutcome> {
    const { vm } = plan;
    const entity = vmRef(vm.id);
    try {
      let vmxPath = plan.hv.vmx;
      let bytes = 0;
      let seconds = 0;
      if (plan.relocate !== undefined) {
        progress.update({ percent: 5, message: `copying the VM's files to datastore ${plan.relocate.ds.name}` });
        const r = await relocate(this.#d.gateway, plan.source.id, vm.id, plan.relocate.mount);
        vmxPath = r.vmxPath;
        bytes += r.bytes;
        seconds += r.seconds;
        moveVmRecord(this.#d.db, vm.id, { hostId: plan.source.id, datastoreId: plan.relocate.ds.id, vmxPath });
      }
      let result: MigrationResult | undefined;
      if (plan.dest !== undefined) {
        const keys = distinctVmKeys(this.#d.vms.require(vm.id).keys);
        progress.update({ percent: 8, message: `pushing ${keys.length} key(s) to host ${plan.dest.name}` });
        await this.#pushTo(plan.dest.id, keys);
        try {
          if (plan.live !== undefined) result = await this.#live(plan, vmxPath, who, progress);
          else await this.#cold(plan, vmxPath);
        } catch (err) {
          await this.#drop(plan.dest.id, keys);
          throw err;
        }
        moveVmRecord(this.#d.db, vm.id, { hostId: plan.dest.id, datastoreId: plan.targetDs.id, vmxPath });
        this.#d.vms.recordObserved(vm.id, (await readHostVm(this.#d.gateway, plan.dest.id, vm.id)).observation);
        progress.update({ percent: 97, message: `dropping keys host ${plan.source.name} no longer needs` });
        await this.#drop(plan.source.id, keys);
      }
      const out: MigrateOutcome = {
        vmId: vm.id, migrationId: plan.migrationId, mode: plan.dest === undefined ? 'storage' : plan.live === undefined ? 'cold' : 'live',
        hostId: plan.dest?.id ?? plan.source.id, datastoreId: plan.targetDs.id,
        ...(plan.live === undefined ? {} : { channel: result?.channel ?? plan.live.channel }),
        encrypted: result?.encrypted ?? plan.live?.encrypted ?? false,
        bytes: bytes + (result?.bytes ?? 0), seconds: seconds + (result?.seconds ?? 0), mbPerSec: result?.mbPerSec ?? 0, downtimeMs: result?.downtimeMs ?? 0,
      };
      if (result !== undefined) progress.update({ percent: 99, bytesDone: out.bytes, bytesTotal: out.bytes, message: `migrated ${Math.round(out.bytes / 1048576)} MiB at ${out.mbPerSec.toFixed(1)} MB/s, downtime ${out.downtimeMs} ms` });
      this.#d.events.post({
        type: 'vm.migrated', severity: 'info', entity, user: who.user,
        message: `VM ${vm.name} migrated to ${to} (${out.mode}${out.channel === undefined ? '' : `, ${out.encrypted ? 'encrypted' : 'plain'} over ${out.channel}`}${out.mode === 'live' ? `, downtime ${out.downtimeMs} ms` : ''})`,
        data: { migrationId: out.migrationId, mode: out.mode, from: plan.source.name, to: plan.dest?.name ?? plan.source.name, datastore: plan.targetDs.name, encrypted: out.encrypted, bytes: out.bytes, mbPerSec: out.mbPerSec, downtimeMs: out.downtimeMs, ...(out.channel === undefined ? {} : { channel: out.channel }) },
      });
      return out;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.#d.events.post({
        type: 'vm.migrationFailed', severity: 'error', entity, user: who.user,
        message: `migration of VM ${vm.name} to ${to} failed: ${message.slice(0, 512)}`,
        data: { migrationId: plan.migrationId, from: plan.source.name, ...(isHostRefusal(err) ? { hostCode: err.code } : {}) },
      });
      throw isHostRefusal(err) ? new ManagerError('MANAGER_CONFLICT', `the host refused: ${err.message} [${err.code}]`) : err;
    }
  }

  /** Announces the channel, then destination incoming + source migrate under the one-time key. */
  async #live(plan: MigratePlan, vmxPath: string, who: Principal, progress: TaskProgress): Promise<MigrationResult> {
    const live = plan.live;
    const dest = plan.dest;
    if (live === undefined || dest === undefined) throw new ManagerError('MANAGER_INTERNAL', 'not a live migration');
    const entity = vmRef(plan.vm.id);
    const data = { migrationId: plan.migrationId, channel: live.channel, from: plan.source.name, to: dest.name };
    if (live.encrypted) {
      this.#d.events.post({ type: 'vm.migratingWithEncryption', severity: 'info', entity, user: who.user, data, message: `VM ${plan.vm.name} migrates to host ${dest.name} encrypted (${live.channel}, one-time AES-256-GCM key)` });
    } else if (live.fellBack !== undefined) {
      this.#d.events.post({ type: 'vm.migration.plain', severity: 'warning', entity, user: who.user, data, message: `VM ${plan.vm.name} migrates to host ${dest.name} NOT encrypted: ${live.fellBack} (migrateEncryption opportunistic)` });
    }
    const otk = live.encrypted ? new OneTimeKey() : undefined;
    const spec = { migrationId: plan.migrationId, channel: live.channel, ...(otk === undefined ? {} : { secret: otk.fields() }) };
    let endpoint;
    try {
      progress.update({ percent: 10, message: `preparing host ${dest.name} for the incoming VM` });
      endpoint = await prepareIncoming(this.#d.gateway, dest.id, { ...spec, vmId: plan.vm.id, vmxPath });
      return await runSourceMigrate(this.#d.gateway, plan.source.id, plan.vm.id, { ...spec, endpoint }, (p) => reportStream(progress, p));
    } catch (err) {
      if (endpoint !== undefined || !isHostRefusal(err)) await abortIncoming(this.#d.gateway, dest.id, plan.migrationId).catch((e: unknown) => this.#d.log?.warn({ err: (e as Error).message }, 'migration abort on the destination failed'));
      throw err;
    } finally {
      otk?.zero();
    }
  }

  /** A powered-off VM on a shared datastore: registered on the destination, then let go by the source. */
  async #cold(plan: MigratePlan, vmxPath: string): Promise<void> {
    const dest = plan.dest;
    if (dest === undefined) throw new ManagerError('MANAGER_INTERNAL', 'no destination');
    try {
      parseHostVm(await this.#d.gateway.call(dest.id, 'POST', '/v1/vms/register', { vmx: vmxPath }));
    } catch (err) {
      if (!(isHostRefusal(err) && err.code === 'HOST_CONFLICT')) throw err;
    }
    try {
      await this.#d.gateway.call(plan.source.id, 'DELETE', `/v1/vms/${plan.vm.id}`);
    } catch (err) {
      if (!(isHostRefusal(err) && err.code === 'HOST_NOT_FOUND')) {
        await this.#d.gateway.call(dest.id, 'DELETE', `/v1/vms/${plan.vm.id}`).catch(() => undefined);
        throw err;
      }
    }
  }

  async #pushTo(hostId: string, keys: readonly KeyRef[]): Promise<void> {
    if (keys.length === 0) return;
    const k = this.#d.keys();
    if (k.pushToHost === undefined) throw new ManagerError('MANAGER_NO_KEY_PROVIDER', 'key management cannot push keys to a migration destination');
    await k.pushToHost(hostId, keys);
  }

  /** Best effort: a key left in a host's RAM cache is not a leak of the key server, only of that host's cache. */
  async #drop(hostId: string, keys: readonly KeyRef[]): Promise<void> {
    if (keys.length === 0) return;
    await this.#d.keys().dropUnneeded?.(hostId, keys).catch((err: unknown) => this.#d.log?.warn({ host: hostId, err: (err as Error).message }, 'dropping migrated keys failed'));
  }
}
