import type { Database } from 'better-sqlite3';
import type { KeyRef, VmKeyUse, VmRecord } from '../../contracts.js';
import { ManagerError, notFound } from '../../errors.js';
import { nowIso } from '../ids.js';

export type PowerState = VmRecord['powerState'];

/** A VM with everything the inventory shows: desired (policy, folder) and observed state. */
export interface VmDetail extends VmRecord {
  readonly folderId?: string;
  readonly vmxPath?: string;
  /** False while the reconcile path is still creating the VM's files on its host. */
  readonly provisioned: boolean;
  /** Observed: the VM's files are encrypted. */
  readonly encrypted: boolean;
  /** Observed: why the host could not read the VM (e.g. a tampered .vmx). */
  readonly observedError?: string;
  readonly observedAt?: string;
}

/** What a host reports about one VM, as the inventory records it. */
export interface VmObservation {
  readonly encrypted: boolean;
  readonly keys: readonly VmKeyUse[];
  readonly powerState: PowerState;
  readonly locked: boolean;
  readonly lockReason?: string;
  readonly error?: string;
  readonly vmxPath?: string;
}

interface VmRow {
  id: string; name: string; host_id: string; datastore_id: string; folder_id: string | null; policy_id: string;
  vmx_path: string | null; provisioned: number; encrypted: number; power_state: string; locked: number;
  lock_reason: string | null; observed_error: string | null; observed_at: string | null;
}

const VM_COLUMNS = 'id, name, host_id, datastore_id, folder_id, policy_id, vmx_path, provisioned, encrypted, power_state, locked, lock_reason, observed_error, observed_at';

const MAX_TOMBSTONES = 10_000;

export class VmStore {
  readonly #db: Database;
  /**
   * In-process order of observations. A host listing is asked for at one point and folded in
   * later; a VM observed meanwhile (e.g. by the task that just made it) is newer than that
   * listing, which must not overwrite it or flag the VM as no longer listed.
   */
  #seq = 0;
  readonly #observedSeq = new Map<string, number>();
  /** Deleted ids and when: a listing asked for before the delete still names the VM and must not import it again. */
  readonly #deletedSeq = new Map<string, number>();

  constructor(db: Database) {
    this.#db = db;
  }

  #keys(vmId: string): VmKeyUse[] {
    return (this.#db.prepare('SELECT part, provider_id, key_id FROM inv_vm_keys WHERE vm_id = ? ORDER BY part').all(vmId) as { part: string; provider_id: string; key_id: string }[])
      .map((k) => ({ part: k.part, key: { providerId: k.provider_id, keyId: k.key_id } }));
  }

  #toVm(r: VmRow): VmDetail {
    return {
      id: r.id, name: r.name, hostId: r.host_id, datastoreId: r.datastore_id, policyId: r.policy_id,
      keys: this.#keys(r.id),
      powerState: r.power_state as PowerState,
      locked: r.locked === 1,
      ...(r.lock_reason === null ? {} : { lockReason: r.lock_reason }),
      ...(r.folder_id === null ? {} : { folderId: r.folder_id }),
      ...(r.vmx_path === null ? {} : { vmxPath: r.vmx_path }),
      provisioned: r.provisioned === 1,
      encrypted: r.encrypted === 1,
      ...(r.observed_error === null ? {} : { observedError: r.observed_error }),
      ...(r.observed_at === null ? {} : { observedAt: r.observed_at }),
    };
  }

  vm(id: string): VmDetail | undefined {
    const r = this.#db.prepare(`SELECT ${VM_COLUMNS} FROM inv_vms WHERE id = ?`).get(id) as VmRow | undefined;
    return r === undefined ? undefined : this.#toVm(r);
  }

  require(id: string): VmDetail {
    const v = this.vm(id);
    if (v === undefined) throw notFound('VM', id);
    return v;
  }

  list(): VmDetail[] {
    return (this.#db.prepare(`SELECT ${VM_COLUMNS} FROM inv_vms ORDER BY name, id`).all() as VmRow[]).map((r) => this.#toVm(r));
  }

  onHost(hostId: string): VmDetail[] {
    return (this.#db.prepare(`SELECT ${VM_COLUMNS} FROM inv_vms WHERE host_id = ? ORDER BY name, id`).all(hostId) as VmRow[]).map((r) => this.#toVm(r));
  }

  /** VMs whose files are wrapped with this KEK ("which entities use key X"). */
  usingKey(key: KeyRef): VmDetail[] {
    return (this.#db
      .prepare(`SELECT DISTINCT ${VM_COLUMNS.split(', ').map((c) => `v.${c}`).join(', ')} FROM inv_vms v JOIN inv_vm_keys k ON k.vm_id = v.id WHERE k.provider_id = ? AND k.key_id = ?`)
      .all(key.providerId, key.keyId) as VmRow[]).map((r) => this.#toVm(r));
  }

  insert(spec: { id: string; name: string; hostId: string; datastoreId: string; folderId?: string; policyId: string; provisioned: boolean }): VmDetail {
    if (this.vm(spec.id) !== undefined) throw new ManagerError('MANAGER_CONFLICT', `VM ${spec.id} is already in the inventory`);
    this.#db
      .prepare('INSERT INTO inv_vms (id, name, host_id, datastore_id, folder_id, policy_id, provisioned, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(spec.id, spec.name, spec.hostId, spec.datastoreId, spec.folderId ?? null, spec.policyId, spec.provisioned ? 1 : 0, nowIso());
    return this.require(spec.id);
  }

  /** The provisional VM of a create and its operation, both or neither. */
  insertWithOperation<T>(spec: Parameters<VmStore['insert']>[0], op: (vmId: string) => T): T {
    return this.#db.transaction(() => {
      this.insert(spec);
      return op(spec.id);
    })();
  }

  /** Runs `fn` in one transaction (e.g. a policy change and the operation that reconciles it). */
  atomically<T>(fn: () => T): T {
    return this.#db.transaction(fn)();
  }

  /** A created VM takes the uuid its host gave it (keys and operations follow: ON UPDATE CASCADE). */
  rename(fromId: string, toId: string): void {
    if (fromId === toId) return;
    this.#db.prepare('UPDATE inv_vms SET id = ? WHERE id = ?').run(toId, fromId);
    this.#observedSeq.delete(fromId);
    this.#observedSeq.set(toId, ++this.#seq);
  }

  /** Taken right before a host listing is asked for; see observedSince. */
  observationMark(): number {
    return this.#seq;
  }

  /** True when the VM was observed (or took its id) after `mark`: a listing asked for before is stale for it. */
  observedSince(id: string, mark: number): boolean {
    return (this.#observedSeq.get(id) ?? this.#deletedSeq.get(id) ?? 0) > mark;
  }

  setPolicy(id: string, policyId: string): void {
    this.#db.prepare('UPDATE inv_vms SET policy_id = ? WHERE id = ?').run(policyId, id);
  }

  setFolder(id: string, folderId: string | undefined): void {
    this.#db.prepare('UPDATE inv_vms SET folder_id = ? WHERE id = ?').run(folderId ?? null, id);
  }

  setPowerState(id: string, power: PowerState): void {
    this.#db.prepare('UPDATE inv_vms SET power_state = ? WHERE id = ?').run(power, id);
  }

  /** Records what the host reports; returns true when anything the operator sees changed. */
  recordObserved(id: string, o: VmObservation): boolean {
    const before = this.vm(id);
    if (before === undefined) return false;
    this.#observedSeq.set(id, ++this.#seq);
    this.#db.transaction(() => {
      this.#db
        .prepare('UPDATE inv_vms SET provisioned = 1, encrypted = ?, power_state = ?, locked = ?, lock_reason = ?, observed_error = ?, vmx_path = COALESCE(?, vmx_path), observed_at = ? WHERE id = ?')
        .run(o.encrypted ? 1 : 0, o.powerState, o.locked ? 1 : 0, o.lockReason ?? null, o.error ?? null, o.vmxPath ?? null, nowIso(), id);
      // a locked VM shows only its home key; keep the disks' keys we knew rather than forget them
      if (!o.encrypted) this.#db.prepare('DELETE FROM inv_vm_keys WHERE vm_id = ?').run(id);
      else {
        const known = new Set(o.keys.map((k) => k.part));
        if (!o.locked) {
          for (const k of this.#keys(id)) if (!known.has(k.part)) this.#db.prepare('DELETE FROM inv_vm_keys WHERE vm_id = ? AND part = ?').run(id, k.part);
        }
        const put = this.#db.prepare('INSERT OR REPLACE INTO inv_vm_keys (vm_id, part, provider_id, key_id) VALUES (?, ?, ?, ?)');
        for (const k of o.keys) put.run(id, k.part, k.key.providerId, k.key.keyId);
      }
    })();
    const after = this.require(id);
    return before.encrypted !== after.encrypted || before.powerState !== after.powerState || before.locked !== after.locked
      || before.lockReason !== after.lockReason || before.observedError !== after.observedError
      || JSON.stringify(before.keys) !== JSON.stringify(after.keys);
  }

  delete(id: string): void {
    this.#db.prepare('DELETE FROM inv_vms WHERE id = ?').run(id);
    this.#observedSeq.delete(id);
    this.#deletedSeq.set(id, ++this.#seq);
    // a listing in flight is seconds old; the oldest tombstones go first (Map keeps insertion order)
    if (this.#deletedSeq.size > MAX_TOMBSTONES) this.#deletedSeq.delete(this.#deletedSeq.keys().next().value as string);
  }
}
