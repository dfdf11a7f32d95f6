import type { Database } from 'better-sqlite3';
import type { KeyRef } from '../../contracts.js';
import { newId, nowIso } from '../ids.js';

export type OperationState = 'inProgress' | 'failed' | 'done';

/**
 * One reconcile operation on one VM (create today; encrypt, decrypt, rekey in issue 11): the
 * intent, the last step that completed and the KEK it chose, so a rerun continues from there
 * with the same key instead of making a second one.
 */
export interface VmOperation {
  readonly id: string;
  readonly vmId: string;
  readonly kind: string;
  readonly state: OperationState;
  /** The last step that completed ('' = none yet). */
  readonly step: string;
  readonly spec: Readonly<Record<string, unknown>>;
  readonly key?: KeyRef;
  readonly error?: { readonly code: string; readonly message: string };
  readonly user?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

interface OpRow {
  id: string; vm_id: string; kind: string; state: string; step: string; spec: string; key_provider_id: string | null; key_id: string | null;
  error_code: string | null; error_message: string | null; user: string | null; created_at: string; updated_at: string;
}

const toOp = (r: OpRow): VmOperation => ({
  id: r.id, vmId: r.vm_id, kind: r.kind, state: r.state as OperationState, step: r.step,
  spec: JSON.parse(r.spec) as Record<string, unknown>,
  ...(r.key_id === null || r.key_provider_id === null ? {} : { key: { providerId: r.key_provider_id, keyId: r.key_id } }),
  ...(r.error_code === null ? {} : { error: { code: r.error_code, message: r.error_message ?? '' } }),
  ...(r.user === null ? {} : { user: r.user }),
  createdAt: r.created_at, updatedAt: r.updated_at,
});

export class OperationStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  get(id: string): VmOperation | undefined {
    const r = this.#db.prepare('SELECT * FROM inv_vm_operations WHERE id = ?').get(id) as OpRow | undefined;
    return r === undefined ? undefined : toOp(r);
  }

  /** The operation not yet done on this VM (at most one: a new one is refused while it exists). */
  open(vmId: string): VmOperation | undefined {
    const r = this.#db.prepare("SELECT * FROM inv_vm_operations WHERE vm_id = ? AND state != 'done' ORDER BY created_at DESC LIMIT 1").get(vmId) as OpRow | undefined;
    return r === undefined ? undefined : toOp(r);
  }

  /** The latest operation on this VM, whatever its state. */
  latest(vmId: string): VmOperation | undefined {
    const r = this.#db.prepare('SELECT * FROM inv_vm_operations WHERE vm_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1').get(vmId) as OpRow | undefined;
    return r === undefined ? undefined : toOp(r);
  }

  listOpen(): VmOperation[] {
    return (this.#db.prepare("SELECT * FROM inv_vm_operations WHERE state != 'done' ORDER BY created_at").all() as OpRow[]).map(toOp);
  }

  insert(spec: { vmId: string; kind: string; spec: Record<string, unknown>; user?: string; id?: string }): VmOperation {
    const id = spec.id ?? newId('op');
    const now = nowIso();
    this.#db
      .prepare('INSERT INTO inv_vm_operations (id, vm_id, kind, state, step, spec, user, created_at, updated_at) VALUES (?, ?, ?, \'inProgress\', \'\', ?, ?, ?, ?)')
      .run(id, spec.vmId, spec.kind, JSON.stringify(spec.spec), spec.user ?? null, now, now);
    return this.get(id) as VmOperation;
  }

  setKey(id: string, key: KeyRef): void {
    this.#db.prepare('UPDATE inv_vm_operations SET key_provider_id = ?, key_id = ?, updated_at = ? WHERE id = ?').run(key.providerId, key.keyId, nowIso(), id);
  }

  /** Adds facts a step learnt (e.g. the chain was seen under two keys) to the operation's spec. */
  patchSpec(id: string, patch: Record<string, unknown>): void {
    const cur = this.get(id);
    if (cur === undefined) return;
    this.#db.prepare('UPDATE inv_vm_operations SET spec = ?, updated_at = ? WHERE id = ?').run(JSON.stringify({ ...cur.spec, ...patch }), nowIso(), id);
  }

  stepDone(id: string, step: string): void {
    this.#db.prepare('UPDATE inv_vm_operations SET step = ?, updated_at = ? WHERE id = ?').run(step, nowIso(), id);
  }

  setState(id: string, state: OperationState, error?: { code: string; message: string }): void {
    this.#db
      .prepare('UPDATE inv_vm_operations SET state = ?, error_code = ?, error_message = ?, updated_at = ? WHERE id = ?')
      .run(state, error?.code ?? null, error?.message ?? null, nowIso(), id);
  }
}
