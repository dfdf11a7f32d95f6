import { HostApiError } from '../../host/client/host-client.js';
import type { KeyRef, VmRecord } from '../contracts.js';
import { EntityKind } from '../contracts.js';
import { ManagerError, notFound } from '../errors.js';
import type { KeyContext } from './context.js';
import { pushKeysToHost } from './host-push.js';
import { FetchFailure } from './kek-fetch.js';
import { fetchKeys, type KeyFailure } from './key-material.js';
import { keyRefId, keyRefLabel } from './key-refs.js';
import { hostKeyPlan } from './push-plan.js';

export interface UnlockResult {
  /** VMs of the host whose every KEK is now in its key cache. */
  readonly unlocked: readonly string[];
  /** VMs still waiting for a key (kmsClusterError / keyMissingOnKms); retried by the loop. */
  readonly stillLocked: readonly string[];
}

type LockReason = FetchFailure;

/**
 * Puts back into a host's key cache every KEK it needs (after a restart or reconnect, or when
 * an operator asks): reads the cache, fetches only what is missing (KMIP batches per
 * provider), pushes it in chunks, zeroes it. Lock state is kept in memory only: which VMs this
 * manager reported locked and why, so each change posts one event and no more.
 */
export class HostUnlocker {
  private readonly locked = new Map<string, { hostId: string; reason: LockReason }>();
  /** VMs seen lacking a key in their host's cache and not yet announced unlocked. */
  private readonly seenLocked = new Set<string>();
  /** Hosts with VMs (or a host key) still waiting for keys: the retry loop's work list. */
  readonly pending = new Set<string>();
  private readonly inflight = new Map<string, Promise<UnlockResult>>();

  constructor(private readonly ctx: KeyContext) {}

  /** Concurrent calls for one host share one run. */
  unlockHost(hostId: string, user?: string): Promise<UnlockResult> {
    const running = this.inflight.get(hostId);
    if (running !== undefined) return running;
    const p = this.run(hostId, user).finally(() => this.inflight.delete(hostId));
    this.inflight.set(hostId, p);
    return p;
  }

  isBusy(hostId: string): boolean {
    return this.inflight.has(hostId);
  }

  /** Why a VM is locked, as this manager last saw it. */
  lockReason(vmId: string): LockReason | undefined {
    return this.locked.get(vmId)?.reason;
  }

  /** The keys the host lacks now (GET /v1/keys against the plan); [] when none. */
  async missingKeys(hostId: string): Promise<KeyRef[]> {
    const plan = hostKeyPlan(this.ctx.inventory, hostId);
    if (plan.keys.length === 0) return [];
    const cached = await this.cachedIds(hostId);
    return plan.keys.filter((k) => !cached.has(k.keyId));
  }

  private async cachedIds(hostId: string): Promise<Set<string>> {
    const r = await this.ctx.inventory.hosts.call<{ keyIds?: unknown }>(hostId, 'GET', '/v1/keys');
    return new Set(Array.isArray(r.keyIds) ? r.keyIds.filter((k): k is string => typeof k === 'string') : []);
  }

  private async run(hostId: string, user: string | undefined): Promise<UnlockResult> {
    const inv = this.ctx.inventory;
    if (inv.host(hostId) === undefined) throw notFound('host', hostId);
    const plan = hostKeyPlan(inv, hostId);
    if (plan.keys.length === 0) {
      this.pending.delete(hostId);
      return { unlocked: [], stillLocked: [] };
    }
    let cached: Set<string>;
    try {
      cached = await this.cachedIds(hostId);
    } catch (err) {
      this.pending.add(hostId);
      throw hostUnreachable(hostId, err);
    }
    const missing = plan.keys.filter((k) => !cached.has(k.keyId));
    const present = new Set(plan.keys.filter((k) => cached.has(k.keyId)).map(keyRefId));
    // Locked = a key it needs is not in the host's cache (the host derives its lock state from
    // the cache). Not the inventory's `locked`, which is one poll old: a run right after
    // another would announce the same unlock again.
    for (const v of plan.vms) if (v.keys.some((u) => !cached.has(u.key.keyId))) this.seenLocked.add(v.id);
    const failed = new Map<string, KeyFailure>();
    if (missing.length > 0) {
      const fetched = await fetchKeys(this.ctx, missing);
      try {
        for (const [id, f] of fetched.failed) failed.set(id, f);
        const material = [...fetched.material.values()];
        if (material.length > 0) {
          try {
            await pushKeysToHost(inv.hosts, hostId, material.map((m) => ({ keyId: m.ref.keyId, material: m.bytes })), {
              parallel: this.ctx.options.pushParallel,
            });
          } catch (err) {
            this.pending.add(hostId);
            throw hostUnreachable(hostId, err);
          }
          this.ctx.metrics.pushed(hostId, material.length);
          for (const m of material) present.add(keyRefId(m.ref));
        }
      } finally {
        fetched.zero();
      }
    }
    const unlocked: string[] = [];
    const stillLocked: string[] = [];
    // One transaction around the events: after a power cut a host may unlock thousands of VMs,
    // and each event alone would be its own synchronous commit.
    this.ctx.platform.db.transaction(() => {
      for (const vm of plan.vms) {
        const lacking = vm.keys.filter((u) => !present.has(keyRefId(u.key)));
        if (lacking.length === 0) {
          unlocked.push(vm.id);
          this.markComplete(vm, hostId, user);
          continue;
        }
        stillLocked.push(vm.id);
        const reasons = lacking.map((u) => ({ ref: u.key, f: failed.get(keyRefId(u.key)) }));
        const missingOnKms = reasons.find((r) => r.f?.kind === FetchFailure.keyMissingOnKms);
        const why = missingOnKms ?? reasons[0];
        const reason: LockReason = missingOnKms !== undefined ? FetchFailure.keyMissingOnKms : FetchFailure.kmsClusterError;
        if (this.locked.get(vm.id)?.reason !== reason) {
          this.locked.set(vm.id, { hostId, reason });
          this.postLocked(vm, hostId, reason, why?.ref, why?.f?.message ?? 'not fetched');
        }
      }
    })();
    // VMs removed from the inventory leave nothing behind in the lock state
    for (const id of this.seenLocked) if (inv.vm(id) === undefined) this.seenLocked.delete(id);
    for (const id of this.locked.keys()) if (inv.vm(id) === undefined) this.locked.delete(id);
    const hostKeyMissing = plan.hostKey !== undefined && !present.has(keyRefId(plan.hostKey));
    if (stillLocked.length > 0 || hostKeyMissing || failed.size > 0) this.pending.add(hostId);
    else this.pending.delete(hostId);
    return { unlocked, stillLocked };
  }

  /** The host's cache lacks a key this VM needs: it is locked there (pushes outside a run say so too). */
  markLocked(vmId: string): void {
    this.seenLocked.add(vmId);
  }

  /**
   * Every key of the VM is in its host's cache now: `vm.unlocked` once if it was seen locked.
   * One check-and-clear, so a run and an operation's push that both saw the VM locked and both
   * completed it announce it once: key management is the one source of `vm.unlocked`.
   */
  markComplete(vm: VmRecord, hostId: string, user?: string): void {
    const seen = this.seenLocked.delete(vm.id);
    const announced = this.locked.delete(vm.id);
    if (seen || announced) this.postUnlocked(vm, hostId, user);
  }

  /** Key ids in the host's key cache now. */
  cachedKeyIds(hostId: string): Promise<Set<string>> {
    return this.cachedIds(hostId);
  }

  /** Operators know hosts by name; the id stays in the event's data. */
  private hostName(hostId: string): string {
    return this.ctx.inventory.host(hostId)?.name ?? hostId;
  }

  private postUnlocked(vm: VmRecord, hostId: string, user: string | undefined): void {
    this.ctx.platform.events.post({
      type: 'vm.unlocked',
      severity: 'info',
      entity: { kind: EntityKind.VM, id: vm.id },
      ...(user === undefined ? {} : { user }),
      message: `VM ${vm.name} unlocked: its keys are in the key cache of host ${this.hostName(hostId)} again`,
      data: { hostId },
    });
  }

  private postLocked(vm: VmRecord, hostId: string, reason: LockReason, ref: KeyRef | undefined, message: string): void {
    const what = ref === undefined ? 'a key' : keyRefLabel(ref);
    this.ctx.platform.events.post({
      type: `vm.locked.${reason}`,
      severity: 'error',
      entity: { kind: EntityKind.VM, id: vm.id },
      message:
        reason === FetchFailure.keyMissingOnKms
          ? `VM ${vm.name} stays locked on host ${this.hostName(hostId)}: ${what} is missing on the key provider (${message})`.slice(0, 2000)
          : `VM ${vm.name} stays locked on host ${this.hostName(hostId)}: ${what} cannot be fetched, key provider unreachable (${message})`.slice(0, 2000),
      data: { hostId, reason, ...(ref === undefined ? {} : { providerId: ref.providerId, keyId: ref.keyId }) },
    });
  }
}

function hostUnreachable(hostId: string, err: unknown): ManagerError {
  if (err instanceof ManagerError) return err;
  // The host answered and refused (e.g. its key cache is full): not an outage.
  if (err instanceof HostApiError && err.status >= 400 && err.status < 500) {
    return new ManagerError('MANAGER_CONFLICT', `host ${hostId} refused: ${err.message} [${err.code}]`, { cause: err });
  }
  return new ManagerError('MANAGER_HOST_UNREACHABLE', `host ${hostId}: ${(err as Error).message}`, { cause: err });
}
