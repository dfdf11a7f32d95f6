import type { Database } from 'better-sqlite3';
import { ManagerError, notFound } from '../../errors.js';
import { newId, nowIso } from '../ids.js';

/** A storage policy: the desired encryption state of the VMs it is given to. */
export interface StoragePolicy {
  readonly id: string;
  readonly name: string;
  readonly encryption: boolean;
  /** Key provider for new KEKs; absent = the default key provider at the time of use. */
  readonly providerId?: string;
  readonly builtIn: boolean;
}

export const BUILT_IN_POLICY = {
  DATASTORE_DEFAULT: 'datastore-default',
  VM_ENCRYPTION: 'vm-encryption',
} as const;

interface PolicyRow { id: string; name: string; encryption: number; provider_id: string | null; built_in: number }

const toPolicy = (r: PolicyRow): StoragePolicy => ({
  id: r.id, name: r.name, encryption: r.encryption === 1, builtIn: r.built_in === 1,
  ...(r.provider_id === null ? {} : { providerId: r.provider_id }),
});

export class PolicyStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  policy(id: string): StoragePolicy | undefined {
    const r = this.#db.prepare('SELECT id, name, encryption, provider_id, built_in FROM inv_policies WHERE id = ?').get(id) as PolicyRow | undefined;
    return r === undefined ? undefined : toPolicy(r);
  }

  require(id: string): StoragePolicy {
    const p = this.policy(id);
    if (p === undefined) throw notFound('storage policy', id);
    return p;
  }

  list(): StoragePolicy[] {
    return (this.#db.prepare('SELECT id, name, encryption, provider_id, built_in FROM inv_policies ORDER BY built_in DESC, name').all() as PolicyRow[]).map(toPolicy);
  }

  create(spec: { name: string; encryption: boolean; providerId?: string }): StoragePolicy {
    if (this.#db.prepare('SELECT 1 FROM inv_policies WHERE name = ?').get(spec.name) !== undefined) {
      throw new ManagerError('MANAGER_CONFLICT', `a storage policy named ${spec.name} already exists`);
    }
    const id = newId('policy');
    this.#db
      .prepare('INSERT INTO inv_policies (id, name, encryption, provider_id, built_in, created_at) VALUES (?, ?, ?, ?, 0, ?)')
      .run(id, spec.name, spec.encryption ? 1 : 0, spec.providerId ?? null, nowIso());
    return this.require(id);
  }

  delete(id: string): void {
    const p = this.require(id);
    if (p.builtIn) throw new ManagerError('MANAGER_CONFLICT', `${p.name} is a built-in storage policy and cannot be deleted`);
    const n = this.#db.prepare('SELECT COUNT(*) AS n FROM inv_vms WHERE policy_id = ?').get(id) as { n: number };
    if (n.n > 0) throw new ManagerError('MANAGER_CONFLICT', `storage policy ${p.name} is assigned to ${n.n} VM(s)`);
    this.#db.prepare('DELETE FROM inv_policies WHERE id = ?').run(id);
  }
}
