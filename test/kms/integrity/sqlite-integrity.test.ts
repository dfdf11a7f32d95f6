import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../../src/kms/store/sqlite.js';
import { authenticatedKms } from './kms-driver.js';

let dir: string;
let dbPath: string;
const master = randomBytes(32);
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmcrypt-integrity-'));
  dbPath = join(dir, 'kms.db');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Row = { id: string; owner: string; version: number; attributes: string; sealed_key: Buffer | null };

/** Edits the database file the way an attacker with the file would: its own SQL connection. */
function edit<T>(fn: (db: Database.Database) => T): T {
  const db = new Database(dbPath);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}
const rowOf = (id: string): Row => edit((db) => db.prepare('SELECT * FROM kms_objects WHERE id = ?').get(id) as Row);

describe('record integrity on SQLite (edits made directly in the database file)', () => {
  it('refuses an owner changed to another identity, with an audit line; the rest still works', async () => {
    const kms = await authenticatedKms(await openSqliteStore({ path: dbPath }), master);
    const id = await kms.create('manager');
    const other = await kms.create('manager');
    edit((db) => db.prepare('UPDATE kms_objects SET owner = ? WHERE id = ?').run('attacker', id));
    const r = await kms.get('attacker', id);
    expect(r).toMatchObject({ ok: false, message: 'key store: RECORD_TAMPERED' });
    expect(await kms.get('manager', id)).toMatchObject({ ok: false, message: 'key store: RECORD_TAMPERED' });
    expect(kms.integrityLines()).toContainEqual(expect.objectContaining({ objectId: id, reason: 'RECORD_TAMPERED', result: 'failure' }));
    expect((await kms.get('manager', other)).ok).toBe(true);
    await kms.close();
  });

  it('refuses a grant added outside the KMS, a state edit and a sealed key swapped between records', async () => {
    const kms = await authenticatedKms(await openSqliteStore({ path: dbPath }), master);
    const a = await kms.create('manager');
    const b = await kms.create('manager');
    const c = await kms.create('manager');
    await kms.grant('manager', a, 'host-1');
    expect((await kms.get('host-1', a)).ok).toBe(true);
    // grant to the attacker by rewriting the grant's value inside the stored document
    edit((db) => {
      const row = db.prepare('SELECT attributes FROM kms_objects WHERE id = ?').get(a) as { attributes: string };
      const hostHex = Buffer.from('host-1').toString('hex');
      const evilHex = Buffer.from('evil-1').toString('hex');
      db.prepare('UPDATE kms_objects SET attributes = ? WHERE id = ?').run(row.attributes.replace(hostHex, evilHex), a);
    });
    expect(await kms.get('evil-1', a)).toMatchObject({ ok: false, message: 'key store: RECORD_TAMPERED' });
    // swap b's sealed key into c
    edit((db) => db.prepare('UPDATE kms_objects SET sealed_key = (SELECT sealed_key FROM kms_objects WHERE id = ?) WHERE id = ?').run(b, c));
    expect(await kms.get('manager', c)).toMatchObject({ ok: false, message: 'key store: RECORD_TAMPERED' });
    // strip the integrity envelope (the pre-integrity form)
    edit((db) => {
      const row = db.prepare('SELECT attributes FROM kms_objects WHERE id = ?').get(b) as { attributes: string };
      db.prepare('UPDATE kms_objects SET attributes = ? WHERE id = ?').run((JSON.parse(row.attributes) as { a: string }).a, b);
    });
    expect(await kms.get('manager', b)).toMatchObject({ ok: false, message: 'key store: RECORD_TAMPERED' });
    expect(kms.integrityLines().map((l) => l.objectId).sort()).toEqual([a, b, c].sort());
    await kms.close();
  });

  it('refuses a destroyed key put back from an older copy of its row (while serving and after a restart)', async () => {
    let kms = await authenticatedKms(await openSqliteStore({ path: dbPath }), master);
    const id = await kms.create('manager');
    const before = rowOf(id);
    await kms.destroy('manager', id);
    expect(await kms.get('manager', id)).toMatchObject({ ok: false });
    // The whole old row comes back: old version, old tag, old sealed key.
    const putBack = () =>
      edit((db) => db.prepare('UPDATE kms_objects SET version = ?, attributes = ?, sealed_key = ? WHERE id = ?').run(before.version, before.attributes, before.sealed_key, id));
    putBack();
    expect(await kms.get('manager', id)).toMatchObject({ ok: false, message: 'key store: RECORD_ROLLED_BACK' });
    await kms.close();
    // With the old row at a higher version number, the tag (bound to the version) fails.
    edit((db) => db.prepare('UPDATE kms_objects SET version = 5 WHERE id = ?').run(id));
    kms = await authenticatedKms(await openSqliteStore({ path: dbPath }), master);
    expect(kms.report.refused).toBe(1);
    expect(await kms.get('manager', id)).toMatchObject({ ok: false, message: 'key store: RECORD_TAMPERED' });
    await kms.close();
  });

  it('refuses a record deleted while the server runs', async () => {
    const kms = await authenticatedKms(await openSqliteStore({ path: dbPath }), master);
    const id = await kms.create('manager');
    edit((db) => db.prepare('DELETE FROM kms_objects WHERE id = ?').run(id));
    expect(await kms.get('manager', id)).toMatchObject({ ok: false, message: 'key store: RECORD_TAMPERED' });
    await kms.close();
  });

  it('migrates a store written before record integrity: old keys still readable, then protected', async () => {
    // Records as today's (pre-integrity) KMS wrote them: bare attribute JSON, sealed key.
    const raw = await openSqliteStore({ path: dbPath });
    const oldKms = await authenticatedKms(raw, master); // only to build realistic records…
    const id = await oldKms.create('manager');
    const key = await oldKms.get('manager', id);
    await oldKms.close();
    // …then strip them back to the old format and drop the marker, as an old data dir has it.
    edit((db) => {
      const row = db.prepare('SELECT attributes FROM kms_objects WHERE id = ?').get(id) as { attributes: string };
      db.prepare('UPDATE kms_objects SET attributes = ? WHERE id = ?').run((JSON.parse(row.attributes) as { a: string }).a, id);
      db.prepare('DROP TABLE kms_meta').run();
    });
    const kms = await authenticatedKms(await openSqliteStore({ path: dbPath }), master);
    expect(kms.report).toEqual({ verified: 0, migrated: 1, refused: 0 });
    expect(await kms.get('manager', id)).toEqual(key);
    expect(rowOf(id).attributes.startsWith('{')).toBe(true);
    await kms.close();
    // After the migration an untagged record is an edit, not an old record.
    edit((db) => {
      const row = db.prepare('SELECT attributes FROM kms_objects WHERE id = ?').get(id) as { attributes: string };
      db.prepare('UPDATE kms_objects SET attributes = ? WHERE id = ?').run((JSON.parse(row.attributes) as { a: string }).a, id);
    });
    const again = await authenticatedKms(await openSqliteStore({ path: dbPath }), master);
    expect(again.report.refused).toBe(1);
    expect(await again.get('manager', id)).toMatchObject({ ok: false, message: 'key store: RECORD_TAMPERED' });
    await again.close();
  });

  it('a store opened with another master key refuses every record (not only their key material)', async () => {
    const kms = await authenticatedKms(await openSqliteStore({ path: dbPath }), master);
    await kms.create('manager');
    await kms.close();
    const wrong = await authenticatedKms(await openSqliteStore({ path: dbPath }), randomBytes(32));
    expect(wrong.report).toMatchObject({ verified: 0, refused: 1 });
    await wrong.close();
  });
});
