import { createHash, randomBytes } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { ManagerError } from '../errors.js';

export type SessionKind = 'session' | 'apiToken';

export interface Session {
  readonly user: string;
  readonly kind: SessionKind;
  readonly expiresAt: string;
  readonly label?: string;
}

export const SESSION_TTL_MS = 8 * 3600_000;
export const MAX_API_TOKEN_DAYS = 3650;
/** Random 32 bytes, base64url, behind a prefix that tells a leaked token apart in a scan. */
const TOKEN_PREFIX = 'vmcm_';
const TOKEN_SHAPE = /^vmcm_[A-Za-z0-9_-]{43}$/;

function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Login sessions and long-lived API tokens: only the SHA-256 of each token is stored. */
export class SessionStore {
  readonly #db: Database;
  readonly #now: () => Date;

  constructor(db: Database, now: () => Date) {
    this.#db = db;
    this.#now = now;
  }

  create(user: string, opts: { kind?: SessionKind; ttlMs?: number; label?: string } = {}): { token: string; expiresAt: string } {
    const raw = randomBytes(32);
    const token = TOKEN_PREFIX + raw.toString('base64url');
    raw.fill(0);
    const now = this.#now();
    const expiresAt = new Date(now.getTime() + (opts.ttlMs ?? SESSION_TTL_MS)).toISOString();
    this.#db
      .prepare('INSERT INTO sessions (token_hash, user, kind, label, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(tokenHash(token), user, opts.kind ?? 'session', opts.label ?? null, now.toISOString(), expiresAt);
    return { token, expiresAt };
  }

  /** The live session a token names; an expired one is removed and reads as absent. */
  resolve(token: string): Session | undefined {
    if (!TOKEN_SHAPE.test(token)) return undefined;
    const hash = tokenHash(token);
    const row = this.#db.prepare('SELECT user, kind, label, expires_at FROM sessions WHERE token_hash = ?').get(hash) as
      | { user: string; kind: SessionKind; label: string | null; expires_at: string }
      | undefined;
    if (row === undefined) return undefined;
    if (Date.parse(row.expires_at) <= this.#now().getTime()) {
      this.#db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(hash);
      return undefined;
    }
    return { user: row.user, kind: row.kind, expiresAt: row.expires_at, ...(row.label !== null ? { label: row.label } : {}) };
  }

  revoke(token: string): void {
    if (!TOKEN_SHAPE.test(token)) throw new ManagerError('MANAGER_UNAUTHENTICATED', 'no such session');
    this.#db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(tokenHash(token));
  }

  /** Ends every session of the user (after a password change or by an administrator). */
  revokeUser(user: string, kind?: SessionKind): void {
    if (kind === undefined) this.#db.prepare('DELETE FROM sessions WHERE user = ?').run(user);
    else this.#db.prepare('DELETE FROM sessions WHERE user = ? AND kind = ?').run(user, kind);
  }

  purgeExpired(): number {
    return this.#db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(this.#now().toISOString()).changes;
  }
}
