import type { Database } from 'better-sqlite3';
import { Privilege } from '../contracts.js';
import { ManagerError } from '../errors.js';
import { BUILTIN_ROLES, isBuiltinRole } from './builtin-roles.js';

export interface Role {
  readonly name: string;
  readonly builtin: boolean;
  readonly privileges: readonly Privilege[];
}

const ROLE_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/;
const KNOWN = new Set<string>(Object.values(Privilege));

/** Built-in roles (fixed) and custom roles (persisted sets of privileges). */
export class RoleStore {
  readonly #db: Database;
  readonly #now: () => Date;

  constructor(db: Database, now: () => Date) {
    this.#db = db;
    this.#now = now;
  }

  list(): Role[] {
    const builtins: Role[] = Object.entries(BUILTIN_ROLES).map(([name, privileges]) => ({ name, builtin: true, privileges }));
    const rows = this.#db.prepare('SELECT name, privileges FROM roles ORDER BY name').all() as Array<{ name: string; privileges: string }>;
    return [...builtins, ...rows.map((r) => ({ name: r.name, builtin: false, privileges: JSON.parse(r.privileges) as Privilege[] }))];
  }

  get(name: string): Role | undefined {
    if (isBuiltinRole(name)) return { name, builtin: true, privileges: BUILTIN_ROLES[name] };
    const row = this.#db.prepare('SELECT privileges FROM roles WHERE name = ?').get(name) as { privileges: string } | undefined;
    return row === undefined ? undefined : { name, builtin: false, privileges: JSON.parse(row.privileges) as Privilege[] };
  }

  create(name: string, privileges: readonly string[]): Role {
    if (!ROLE_NAME.test(name)) throw new ManagerError('MANAGER_BAD_REQUEST', 'name: a role name is 1-64 letters, digits, space, dot, underscore or dash');
    for (const p of privileges) {
      if (!KNOWN.has(p)) throw new ManagerError('MANAGER_BAD_REQUEST', `privileges: unknown privilege ${JSON.stringify(p.slice(0, 80))}`);
    }
    if (this.get(name) !== undefined) throw new ManagerError('MANAGER_CONFLICT', `role ${name} already exists (rule: role names are unique)`);
    const unique = [...new Set(privileges)].sort() as Privilege[];
    this.#db.prepare('INSERT INTO roles (name, privileges, created_at) VALUES (?, ?, ?)').run(name, JSON.stringify(unique), this.#now().toISOString());
    return { name, builtin: false, privileges: unique };
  }

  delete(name: string): void {
    if (isBuiltinRole(name)) throw new ManagerError('MANAGER_CONFLICT', `role ${name} is built in (rule: built-in roles cannot be deleted)`);
    if (this.get(name) === undefined) throw new ManagerError('MANAGER_NOT_FOUND', `role ${name} not found`);
    const used = this.#db.prepare('SELECT count(*) AS n FROM permissions WHERE role = ?').get(name) as { n: number };
    if (used.n > 0) throw new ManagerError('MANAGER_CONFLICT', `role ${name} is used by ${used.n} permission(s) (rule: a role in use cannot be deleted)`);
    this.#db.prepare('DELETE FROM roles WHERE name = ?').run(name);
  }
}
