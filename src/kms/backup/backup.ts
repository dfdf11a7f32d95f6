import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomically } from '../../fs/atomic-file.js';
import type { KmsPaths } from '../data-dir.js';
import { KmsError } from '../errors.js';
import type { StoreOptions } from '../open-key-server.js';
import { BACKUP_FILES, BackupWriter, type BackupManifest } from './backup-format.js';
import { snapshotRecords } from './store-snapshot.js';

/**
 * Writes a backup of a data dir and its store to `out` (atomically: temp file, fsync, rename).
 * Needs no unsealing: records stay tagged and sealed; the data-dir files are the sealed master
 * key, the CA certificate and the sealed CA key. A data dir with a clear master.key is refused
 * (a backup would carry the key in clear): run `kms seal-migrate` first.
 */
export async function takeBackup(paths: KmsPaths, store: StoreOptions, out: string, now: () => Date = () => new Date()): Promise<BackupManifest> {
  if (!(await stat(paths.masterSealed).then(() => true, () => false))) {
    throw new KmsError('CONFIG_INVALID', `${paths.dataDir} has no sealed master key (${paths.masterSealed}); a backup never carries a clear one: run vmcrypt kms seal-migrate first`);
  }
  const files = new Map<string, Buffer>();
  for (const f of BACKUP_FILES) files.set(f, await readFile(join(paths.dataDir, f)));
  // The point in time: records are read after this instant, so every write acknowledged before it is in.
  const time = now().toISOString();
  const records = await snapshotRecords(store);
  const kind = store.store ?? 'sqlite';
  return writeAtomically(out, async (fh) => {
    const w = new BackupWriter(async (line) => {
      await fh.write(line);
    });
    await w.header(time, kind);
    for (const [p, data] of files) await w.file(p, data);
    for (const r of records) await w.record(r);
    return w.finish(time, kind);
  });
}

const STAMP = /^kms-backup-(\d{8}T\d{6}\d{3}Z)\.jsonl$/;

/** Name of a scheduled backup taken at `t`: sorts by time. */
export function scheduledName(t: Date): string {
  return `kms-backup-${t.toISOString().replace(/[-:.]/g, '')}.jsonl`;
}

/** Deletes all but the `keep` newest scheduled backups in `dir`; returns the removed names. */
export async function pruneBackups(dir: string, keep: number): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => STAMP.test(n)).sort();
  const old = names.slice(0, Math.max(0, names.length - keep));
  for (const n of old) await rm(join(dir, n), { force: true });
  return old;
}
