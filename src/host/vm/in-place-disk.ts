import { access, open, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { checkDiskKey, decryptDiskInPlace, DiskError, diskInfo, encryptDiskInPlace, rekeyDiskInPlace, type ProgressFn } from '../../disk/index.js';
import { HostError } from '../errors.js';
import type { InPlaceDiskEntry } from '../vm-files/in-place-record.js';

/**
 * One disk of a VM-level in-place operation, brought to its converted state under its final
 * name, idempotently: a rerun after a crash at any point (before the engine started, inside
 * the engine's walk, after it finished but before the rename, after the rename) ends in the
 * same place. Whether a file is already converted is read from the file itself:
 * - the engine's progress file beside the disk exists → unfinished (the engine resumes);
 * - encrypt / rekey: the new DEK opens the disk → converted;
 * - decrypt: the file is no longer the LUKS disk recorded before the start (its UUID) → converted.
 */
export type DiskOp = 'encrypt' | 'decrypt' | 'rekey';

export interface DiskJob {
  readonly op: DiskOp;
  readonly dir: string;
  readonly entry: InPlaceDiskEntry;
  /** decrypt, rekey: the DEK the disk is under now. */
  readonly oldDek?: Buffer | undefined;
  /** encrypt, rekey: the DEK it ends under. */
  readonly newDek?: Buffer | undefined;
  readonly onProgress?: ProgressFn | undefined;
}

const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);

/** The engine's progress file (`.NAME.vmcrypt-inplace`, docs/disk.md "In place"). */
const sidecarOf = (disk: string): string => join(dirname(disk), `.${basename(disk)}.vmcrypt-inplace`);

/** The engine has begun on this file (its progress file exists): only finishing it helps now. */
export function engineStarted(dir: string, entry: InPlaceDiskEntry): Promise<boolean> {
  return exists(sidecarOf(join(dir, entry.file)));
}

async function converted(job: DiskJob, path: string): Promise<boolean> {
  if (await exists(sidecarOf(path))) return false;
  if (job.op === 'decrypt') {
    try {
      return (await diskInfo(path)).uuid !== job.entry.luksUuid;
    } catch (err) {
      // a marker without a progress file: let the engine say why it cannot go on
      if (err instanceof DiskError && (err.code === 'DISK_IN_PLACE_UNFINISHED' || err.code === 'DISK_NOT_FOUND')) return false;
      return true; // raw now (its first bytes are guest data)
    }
  }
  const dek = need(job.newDek, 'new');
  return checkDiskKey(path, dek).then(() => true, () => false);
}

function need(b: Buffer | undefined, which: string): Buffer {
  if (b === undefined) throw new HostError('HOST_VMX_INVALID', `in-place conversion without its ${which} key`);
  return b;
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Converts (or finishes converting) one disk, then gives it its final name. */
export async function convertDiskInPlace(job: DiskJob): Promise<void> {
  const from = join(job.dir, job.entry.file);
  const to = join(job.dir, job.entry.to);
  if (from !== to && !(await exists(from))) {
    if (await exists(to)) return; // converted and renamed before a crash
    throw new HostError('HOST_VMX_INVALID', `disk ${job.entry.disk}: neither ${job.entry.file} nor ${job.entry.to} exists`);
  }
  if (from !== to && (await exists(to))) throw new HostError('HOST_CONFLICT', `disk ${job.entry.disk}: ${job.entry.to} exists already beside ${job.entry.file}; move it away and rerun`);
  if (!(await converted(job, from))) {
    const onProgress = job.onProgress;
    const common = { path: from, ...(onProgress === undefined ? {} : { onProgress }) };
    switch (job.op) {
      case 'encrypt':
        await encryptDiskInPlace({ ...common, dek: need(job.newDek, 'new') });
        break;
      case 'decrypt':
        await decryptDiskInPlace({ ...common, dek: need(job.oldDek, 'old') });
        break;
      case 'rekey':
        await rekeyDiskInPlace({ ...common, oldDek: need(job.oldDek, 'old'), newDek: need(job.newDek, 'new') });
        break;
    }
  }
  if (from !== to) {
    await rename(from, to);
    await syncDir(job.dir);
  }
}
