import type { Database } from 'better-sqlite3';
import { EntityKind, ROOT, type EntityRef } from '../contracts.js';
import { ManagerError } from '../errors.js';
import type { RoleStore } from './roles.js';
import type { UserStore } from './users.js';

export interface Permission {
  readonly principal: string;
  readonly entity: EntityRef;
  readonly role: string;
  /** Whether it applies to the entity's descendants too (vSphere's "Propagate to children"). */
  readonly propagate: boolean;
}

interface PermissionRow {
  principal: string;
  entity_kind: string;
  entity_id: string;
  role: string;
  propagate: number;
}

const KINDS = new Set<string>(Object.values(EntityKind));

export function checkEntityRef(entity: EntityRef): EntityRef {
  if (!KINDS.has(entity.kind)) throw new ManagerError('MANAGER_BAD_REQUEST', `entity.kind: unknown kind ${JSON.stringify(String(entity.kind).slice(0, 40))}`);
  if (entity.id.length === 0 || entity.id.length > 128) throw new ManagerError('MANAGER_BAD_REQUEST', 'entity.id: 1-128 characters');
  if (entity.kind === ROOT.kind && entity.id !== ROOT.id) throw new ManagerError('MANAGER_BAD_REQUEST', `entity.id: the root's id is ${ROOT.id}`);
  return entity;
}

/** Permissions: (principal, role) on one inventory object, one per principal and object. */
export class PermissionStore {
  readonly #db: Database;
  readonly #roles: RoleStore;
  readonly #users: UserStore;

  constructor(db: Database, roles: RoleStore, users: UserStore) {
    this.#db = db;
    this.#roles = roles;
    this.#users = users;
  }

  set(p: Permission): Permission {
    checkEntityRef(p.entity);
    if (!this.#users.exists(p.principal)) throw new ManagerError('MANAGER_NOT_FOUND', `user ${p.principal} not found`);
    if (this.#roles.get(p.role) === undefined) throw new ManagerError('MANAGER_NOT_FOUND', `role ${p.role} not found`);
    this.#db
      .prepare(
        `INSERT INTO permissions (principal, entity_kind, entity_id, role, propagate) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (principal, entity_kind, entity_id) DO UPDATE SET role = excluded.role, propagate = excluded.propagate`,
      )
      .run(p.principal, p.entity.kind, p.entity.id, p.role, p.propagate ? 1 : 0);
    return { principal: p.principal, entity: { kind: p.entity.kind, id: p.entity.id }, role: p.role, propagate: p.propagate };
  }

  remove(principal: string, entity: EntityRef): void {
    const info = this.#db
      .prepare('DELETE FROM permissions WHERE principal = ? AND entity_kind = ? AND entity_id = ?')
      .run(principal, entity.kind, entity.id);
    if (info.changes === 0) throw new ManagerError('MANAGER_NOT_FOUND', `no permission for ${principal} on ${entity.kind} ${entity.id}`);
  }

  /** Permissions defined on the entity itself (or all of them). */
  list(entity?: EntityRef): Permission[] {
    const rows = (
      entity === undefined
        ? this.#db.prepare('SELECT * FROM permissions ORDER BY entity_kind, entity_id, principal').all()
        : this.#db.prepare('SELECT * FROM permissions WHERE entity_kind = ? AND entity_id = ? ORDER BY principal').all(entity.kind, entity.id)
    ) as PermissionRow[];
    return rows.map(fromRow);
  }

  find(principal: string, entity: EntityRef): Permission | undefined {
    const row = this.#db
      .prepare('SELECT * FROM permissions WHERE principal = ? AND entity_kind = ? AND entity_id = ?')
      .get(principal, entity.kind, entity.id) as PermissionRow | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  /** How many principals hold this role on this entity (guards removing the last administrator). */
  countWithRole(role: string, entity: EntityRef): number {
    return (
      this.#db
        .prepare('SELECT count(*) AS n FROM permissions WHERE role = ? AND entity_kind = ? AND entity_id = ?')
        .get(role, entity.kind, entity.id) as { n: number }
    ).n;
  }
}

function fromRow(row: PermissionRow): Permission {
  return { principal: row.principal, entity: { kind: row.entity_kind as EntityKind, id: row.entity_id }, role: row.role, propagate: row.propagate === 1 };
}
