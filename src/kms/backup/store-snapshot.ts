import Database from 'better-sqlite3';
import { stat } from 'node:fs/promises';
import { KmsError } from '../errors.js';
import { openRawStore, type StoreOptions } from '../open-key-server.js';
import type { KeyRecord } from '../store/types.js';

type Row = { id: string; owner: string; version: number; attributes: string; sealed_key: Buffer | null };

/**
 * Every record at one point in time, as stored (tagged, sealed), read beside a serving KMS.
 * SQLite: a read-only connection and ONE SELECT, which SQLite runs in one read transaction on a
 * WAL snapshot: every commit that finished before it started is in, none half. etcd: the store's
 * list(), paged at one pinned revision.
 */
export async function snapshotRecords(opts: StoreOptions): Promise<KeyRecord[]> {
  if ((opts.store ?? 'sqlite') === 'etcd') {
    const store = await openRawStore(opts);
    try {
      return await store.list();
    } finally {
      await store.close();
    }
  }
  if (!(await stat(opts.database).then(() => true, () => false))) return [];
  const db = new Database(opts.database, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare<[], Row>('SELECT id, owner, version, attributes, sealed_key FROM kms_objects ORDER BY seq').all();
    return rows.map((r) => ({ id: r.id, owner: r.owner, version: r.version, attributes: r.attributes, sealedKey: r.sealed_key }));
  } catch (err) {
    throw new KmsError('STORE_UNAVAILABLE', `cannot read ${opts.database}: ${(err as Error).message}`, { cause: err });
  } finally {
    db.close();
  }
}
