import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appliedMigrations, openDatabase } from '../../../src/manager/db/database.js';
import { ManagerError } from '../../../src/manager/errors.js';
import { PLATFORM_MIGRATIONS } from '../../../src/manager/platform/migrations.js';

describe('openDatabase', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmcrypt-mgr-db-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('applies each migration once, survives a reopen, and keeps the file private', async () => {
    const file = join(dir, 'data', 'manager.db');
    const extra = [{ name: 'test-001', sql: 'CREATE TABLE widgets (id INTEGER PRIMARY KEY, name TEXT NOT NULL) STRICT;' }];
    const db = openDatabase(file, [...PLATFORM_MIGRATIONS, ...extra]);
    db.prepare('INSERT INTO widgets (name) VALUES (?)').run('one');
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    db.close();

    // reopening re-runs nothing: a second CREATE TABLE would throw
    const again = openDatabase(file, [...PLATFORM_MIGRATIONS, ...extra, { name: 'test-002', sql: 'ALTER TABLE widgets ADD COLUMN size INTEGER;' }]);
    expect(appliedMigrations(again)).toEqual([...PLATFORM_MIGRATIONS.map((m) => m.name), 'test-001', 'test-002']);
    expect(again.prepare('SELECT name FROM widgets').all()).toEqual([{ name: 'one' }]);
    again.close();

    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'data'))).mode & 0o777).toBe(0o700);
  });

  it('a failing migration leaves nothing behind and names itself', () => {
    const file = join(dir, 'm.db');
    const bad = [
      { name: 'ok-001', sql: 'CREATE TABLE a (x INTEGER) STRICT;' },
      { name: 'bad-002', sql: 'CREATE TABLE b (x INTEGER) STRICT; CREATE TABLE a (y INTEGER);' },
    ];
    expect(() => openDatabase(file, bad)).toThrow(/bad-002/);
    const db = openDatabase(file, bad.slice(0, 1));
    expect(appliedMigrations(db)).toEqual(['ok-001']);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'b'").get()).toBeUndefined();
    db.close();
  });

  it('refuses a list naming one migration twice', () => {
    const m = { name: 'dup', sql: 'SELECT 1;' };
    expect(() => openDatabase(join(dir, 'x.db'), [m, m])).toThrow(ManagerError);
  });
});
