import type { Database } from 'better-sqlite3';
import { ManagerError } from '../errors.js';
import { checkPasswordPolicy, hashPassword, verifyPassword } from './password.js';

export interface User {
  readonly name: string;
  readonly createdAt: string;
}

export const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** Local users; only scrypt hashes of their passwords are stored. */
export class UserStore {
  readonly #db: Database;
  readonly #now: () => Date;
  /** Verified against when the user is unknown, so a login takes as long either way. */
  #decoy: Promise<string> | undefined;

  constructor(db: Database, now: () => Date) {
    this.#db = db;
    this.#now = now;
  }

  count(): number {
    return (this.#db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
  }

  exists(name: string): boolean {
    return this.#db.prepare('SELECT 1 FROM users WHERE name = ?').get(name) !== undefined;
  }

  list(): User[] {
    return (this.#db.prepare('SELECT name, created_at FROM users ORDER BY name').all() as Array<{ name: string; created_at: string }>).map((r) => ({
      name: r.name,
      createdAt: r.created_at,
    }));
  }

  async create(name: string, password: string): Promise<User> {
    if (!USER_NAME.test(name)) throw new ManagerError('MANAGER_BAD_REQUEST', 'name: a user name is 1-64 letters, digits, dot, underscore, @ or dash');
    checkPasswordPolicy(password);
    if (this.exists(name)) throw new ManagerError('MANAGER_CONFLICT', `user ${name} already exists (rule: user names are unique)`);
    const hash = await hashPassword(password);
    const createdAt = this.#now().toISOString();
    try {
      this.#db.prepare('INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?)').run(name, hash, createdAt);
    } catch (err) {
      // two concurrent creates: the second loses at the primary key
      if (this.exists(name)) throw new ManagerError('MANAGER_CONFLICT', `user ${name} already exists (rule: user names are unique)`);
      throw err;
    }
    return { name, createdAt };
  }

  async setPassword(name: string, password: string): Promise<void> {
    if (!this.exists(name)) throw new ManagerError('MANAGER_NOT_FOUND', `user ${name} not found`);
    checkPasswordPolicy(password);
    const hash = await hashPassword(password);
    this.#db.prepare('UPDATE users SET password_hash = ? WHERE name = ?').run(hash, name);
  }

  /** Deletes the user with its sessions, tokens and permissions (foreign keys cascade). */
  delete(name: string): void {
    const info = this.#db.prepare('DELETE FROM users WHERE name = ?').run(name);
    if (info.changes === 0) throw new ManagerError('MANAGER_NOT_FOUND', `user ${name} not found`);
  }

  async verify(name: string, password: string): Promise<boolean> {
    const row = this.#db.prepare('SELECT password_hash FROM users WHERE name = ?').get(name) as { password_hash: string } | undefined;
    if (row === undefined) {
      this.#decoy ??= hashPassword('decoy password, never matches');
      await verifyPassword(password, await this.#decoy);
      return false;
    }
    return verifyPassword(password, row.password_hash);
  }
}
