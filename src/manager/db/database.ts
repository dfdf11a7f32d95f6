import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { makePrivateDirSync, preparePrivateFileSync } from '../../fs/private-files.js';
import type { Migration } from '../contracts.js';
import { ManagerError } from '../errors.js';

const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  name TEXT PRIMARY KEY,
  applied_at TEXT NOT NULL
) STRICT`;

/**
 * Opens (creating when absent) the manager's SQLite database and applies every migration not
 * yet recorded in `schema_migrations`, each in its own transaction, in the order given.
 * WAL + synchronous=FULL: a committed change survives a power cut (the manager's inventory is
 * the only record of which key id protects which VM).
 */
export function openDatabase(file: string, migrations: readonly Migration[], opts: { now?: () => Date } = {}): Database {
  const names = new Set<string>();
  for (const m of migrations) {
    if (names.has(m.name)) throw new ManagerError('MANAGER_DATABASE', `migration ${m.name} is listed twice`);
    names.add(m.name);
  }
  if (file !== ':memory:') preparePrivateFile(file);
  const db = new BetterSqlite3(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    applyMigrations(db, migrations, opts.now ?? (() => new Date()));
  } catch (err) {
    db.close();
    if (err instanceof ManagerError) throw err;
    throw new ManagerError('MANAGER_DATABASE', `cannot open database ${file}: ${(err as Error).message}`, { cause: err });
  }
  return db;
}

export function appliedMigrations(db: Database): string[] {
  return (db.prepare('SELECT name FROM schema_migrations ORDER BY rowid').all() as Array<{ name: string }>).map((r) => r.name);
}

/** Applies the migrations not yet recorded (idempotent: each part may call it with its own list). */
export function applyMigrations(db: Database, migrations: readonly Migration[], now: () => Date = () => new Date()): void {
  db.exec(MIGRATIONS_TABLE);
  const applied = new Set(appliedMigrations(db));
  const record = db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)');
  for (const m of migrations) {
    if (applied.has(m.name)) continue;
    const step = db.transaction(() => {
      db.exec(m.sql);
      record.run(m.name, now().toISOString());
    });
    try {
      step();
    } catch (err) {
      throw new ManagerError('MANAGER_DATABASE', `migration ${m.name} failed: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** The directory 0700 and the file 0600 before SQLite opens it (its -wal/-shm copy the file's mode). */
function preparePrivateFile(file: string): void {
  const dir = dirname(file);
  makePrivateDirSync(dir, { tighten: true });
  preparePrivateFileSync(file);
}
