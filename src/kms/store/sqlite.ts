import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { KmsError } from '../errors.js';
import { checkMeta, type KeyRecord, type KeyRecordChange, type KeyStore, type NewKeyRecord } from './types.js';
import { fsyncDir } from '../../fs/fsync-dir.js';
import { coalescedSync } from './coalesced-sync.js';

type Row = { id: string; owner: string; version: number; attributes: string; sealed_key: Buffer | null };

type Write =
  | { kind: 'insert'; record: NewKeyRecord; resolve: (r: KeyRecord) => void; reject: (e: unknown) => void }
  | {
      kind: 'update';
      id: string;
      expectedVersion: number;
      change: KeyRecordChange;
      resolve: (r: KeyRecord) => void;
      reject: (e: unknown) => void;
    };

export interface SqliteStoreOptions {
  /** Path of the database file (created 0600 if absent). */
  readonly path: string;
}

/**
 * KeyStore on SQLite (better-sqlite3). WAL journal; group commit: writes issued in the same
 * event-loop turn are applied in ONE transaction, and each promise resolves only once that
 * transaction is on stable storage. Compare-and-set is checked row by row inside the
 * transaction, so one conflicting write never fails the others.
 *
 * The fsync is ours, off the event loop: SQLite commits with synchronous=NORMAL (it writes the
 * WAL frames, does not sync them; checkpoints still sync), then an fdatasync of the -wal file on
 * the thread pool makes the commit durable, shared by every commit made while the one before
 * ran (coalesced-sync.ts). Meanwhile the event loop serves other requests (with synchronous=FULL
 * the whole process waited for each fsync). WAL frames carry cumulative checksums, so a crash
 * keeps a prefix of the commits: never a later one without an earlier one. A read of an object
 * whose last write is not yet durable waits for it, so nothing not durable is ever answered.
 */
export async function openSqliteStore(opts: SqliteStoreOptions): Promise<KeyStore> {
  const db = new Database(opts.path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // Freed pages are overwritten: sealed blobs of destroyed keys do not linger in free pages.
  db.pragma('secure_delete = ON');
  db.pragma('foreign_keys = ON');
  db.exec(`CREATE TABLE IF NOT EXISTS kms_objects (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    version INTEGER NOT NULL,
    attributes TEXT NOT NULL,
    sealed_key BLOB
  );
  CREATE INDEX IF NOT EXISTS kms_objects_owner ON kms_objects(owner);
  CREATE TABLE IF NOT EXISTS kms_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);`);
  // The -wal exists from here on while this connection is open (checkpoints truncate it, never remove it).
  const wal = await open(`${opts.path}-wal`, 'r');
  // A new database (and its -wal) must not lose its directory entry in a crash after keys went in.
  await fsyncDir(dirname(opts.path));
  const syncWal = coalescedSync(() => wal.datasync());

  const selectOne = db.prepare<[string], Row>('SELECT id, owner, version, attributes, sealed_key FROM kms_objects WHERE id = ?');
  const selectAll = db.prepare<[], Row>('SELECT id, owner, version, attributes, sealed_key FROM kms_objects ORDER BY seq');
  const selectOwner = db.prepare<[string], Row>(
    'SELECT id, owner, version, attributes, sealed_key FROM kms_objects WHERE owner = ? ORDER BY seq',
  );
  const insertRow = db.prepare(
    'INSERT OR IGNORE INTO kms_objects (id, owner, version, attributes, sealed_key) VALUES (?, ?, 1, ?, ?)',
  );
  const hasSealedKey = db.prepare<[string], { had: number }>('SELECT sealed_key IS NOT NULL AS had FROM kms_objects WHERE id = ?');
  // RETURNING the two fields we did not write: the new record is built without reading the row back.
  const updateRow = db.prepare<[string, Buffer | null, string, number], { owner: string; version: number }>(
    'UPDATE kms_objects SET version = version + 1, attributes = ?, sealed_key = ? WHERE id = ? AND version = ? RETURNING owner, version',
  );

  const selectMeta = db.prepare<[string], { value: string }>('SELECT value FROM kms_meta WHERE name = ?');
  const upsertMeta = db.prepare('INSERT INTO kms_meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value');

  let queue: Write[] = [];
  let scheduled = false;
  let closed = false;
  let idle: Promise<void> = Promise.resolve();
  let markIdle: () => void = () => {};
  /** Committed batches whose fsync has not finished; per object, the sync its last write waits for. */
  let syncing = 0;
  const unsynced = new Map<string, Promise<void>>();
  let lastSync: Promise<void> = Promise.resolve();
  /** Set once an fsync failed: what was committed may not be on disk, so the store refuses all work. */
  let broken: KmsError | undefined;
  const usable = (): void => {
    if (closed) throw new KmsError('STORE_UNAVAILABLE', 'store is closed');
    if (broken !== undefined) throw broken;
  };
  /** Before answering a read of `id`: its last write must be durable. */
  const durable = async (id?: string): Promise<void> => {
    const pending = id === undefined ? (syncing > 0 ? lastSync : undefined) : unsynced.get(id);
    if (pending !== undefined) await pending.catch(() => {});
    usable();
  };

  /**
   * Destroy sets sealed_key to NULL: secure_delete zeroes the old bytes in the new page image, but
   * the WAL still holds the frames written when the key was stored, until a checkpoint resets it.
   * A TRUNCATE checkpoint copies the zeroed pages into the database and empties the WAL, so no
   * sealed copy of a destroyed key stays on disk (a master key stolen later opens nothing).
   */
  const purgeWal = (): void => {
    try {
      db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (err) {
      process.stderr.write(`kms: SQLite checkpoint after destroy failed: ${(err as Error).message}\n`);
    }
  };
  // A crash between a destroy's commit and its checkpoint leaves the frames in the WAL: purge at open.
  purgeWal();

  let removedKeys = false;
  const applyAll = db.transaction((writes: Write[]) => {
    const results: Array<{ ok: true; record: KeyRecord } | { ok: false; error: unknown }> = [];
    for (const w of writes) {
      if (w.kind === 'insert') {
        const r = w.record;
        const info = insertRow.run(r.id, r.owner, r.attributes, r.sealedKey);
        if (info.changes === 0) {
          results.push({ ok: false, error: new KmsError('STORE_ID_EXISTS', `object id ${r.id} already exists`) });
        } else {
          results.push({ ok: true, record: { ...r, version: 1 } });
        }
      } else {
        if (w.change.sealedKey === null && hasSealedKey.get(w.id)?.had === 1) removedKeys = true;
        const row = updateRow.get(w.change.attributes, w.change.sealedKey, w.id, w.expectedVersion);
        if (row !== undefined) {
          results.push({ ok: true, record: { id: w.id, owner: row.owner, version: row.version, attributes: w.change.attributes, sealedKey: w.change.sealedKey } });
        } else if (selectOne.get(w.id) === undefined) {
          results.push({ ok: false, error: new KmsError('STORE_NOT_FOUND', `no object ${w.id}`) });
        } else {
          results.push({ ok: false, error: new KmsError('STORE_CONFLICT', `object ${w.id} changed concurrently`) });
        }
      }
    }
    return results;
  });

  const flush = (): void => {
    scheduled = false;
    const writes = queue;
    queue = [];
    if (writes.length === 0) return;
    let results: ReturnType<typeof applyAll>;
    removedKeys = false;
    try {
      results = applyAll(writes);
      if (removedKeys) purgeWal();
    } catch (err) {
      const e = new KmsError('STORE_UNAVAILABLE', `SQLite write failed: ${(err as Error).message}`, { cause: err });
      for (const w of writes) w.reject(e);
      finishIfIdle();
      return;
    }
    // Refusals (conflict, id taken) changed nothing: they are answered at once.
    const done: Array<{ w: Write; record: KeyRecord }> = [];
    writes.forEach((w, i) => {
      const r = results[i];
      if (r?.ok === true) done.push({ w, record: r.record });
      else w.reject(r?.error ?? new KmsError('STORE_UNAVAILABLE', 'write lost'));
    });
    if (done.length === 0) return finishIfIdle();
    const sync = syncWal();
    lastSync = sync;
    syncing++;
    for (const d of done) unsynced.set(d.record.id, sync);
    sync.then(
      () => {
        for (const d of done) d.w.resolve(d.record);
      },
      (err: unknown) => {
        broken ??= new KmsError('STORE_UNAVAILABLE', `SQLite WAL fsync failed: ${(err as Error).message}`, { cause: err });
        for (const d of done) d.w.reject(broken);
      },
    ).finally(() => {
      syncing--;
      for (const d of done) if (unsynced.get(d.record.id) === sync) unsynced.delete(d.record.id);
      finishIfIdle();
    });
  };

  const finishIfIdle = (): void => {
    if (queue.length === 0 && !scheduled && syncing === 0) markIdle();
  };

  const enqueue = <T>(make: (resolve: (r: KeyRecord) => void, reject: (e: unknown) => void) => Write): Promise<T> => {
    if (closed) return Promise.reject(new KmsError('STORE_UNAVAILABLE', 'store is closed'));
    if (broken !== undefined) return Promise.reject(broken);
    return new Promise<T>((resolve, reject) => {
      if (queue.length === 0 && !scheduled && syncing === 0) idle = new Promise((r) => (markIdle = r));
      queue.push(make(resolve as (r: KeyRecord) => void, reject));
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
  };

  return {
    kind: 'sqlite',
    newId: () => randomUUID(),
    insert: (record) => enqueue<KeyRecord>((resolve, reject) => ({ kind: 'insert', record, resolve, reject })),
    update: (id, expectedVersion, change) =>
      enqueue<KeyRecord>((resolve, reject) => ({ kind: 'update', id, expectedVersion, change, resolve, reject })),
    async get(id) {
      usable();
      await durable(id);
      const row = selectOne.get(id);
      return row === undefined ? undefined : toRecord(row);
    },
    async list(filter) {
      usable();
      await durable();
      const rows = filter?.owner === undefined ? selectAll.all() : selectOwner.all(filter.owner);
      return rows.map(toRecord);
    },
    async readMeta(name) {
      checkMeta(name);
      usable();
      return selectMeta.get(name)?.value;
    },
    async writeMeta(name, value) {
      checkMeta(name, value);
      usable();
      // A transaction of its own (meta writes are rare format markers), durable before it resolves.
      upsertMeta.run(name, value);
      await syncWal();
    },
    async close() {
      if (closed) return;
      closed = true;
      await idle;
      try {
        db.pragma('wal_checkpoint(TRUNCATE)');
        db.close();
      } finally {
        await wal.close();
      }
    },
  };
}

function toRecord(row: Row): KeyRecord {
  return { id: row.id, owner: row.owner, version: row.version, attributes: row.attributes, sealedKey: row.sealed_key };
}
