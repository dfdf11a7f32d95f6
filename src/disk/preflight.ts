import { access, open, stat, type FileHandle } from 'node:fs/promises';
import { DiskError } from './errors.js';
import { cleanStaleTemps } from '../fs/atomic-file.js';
import type { NoticeFn } from './types.js';

/** Opens a source file read-only, mapping ENOENT/EACCES to DISK_NOT_FOUND. */
export async function openSource(path: string, flags: 'r' | 'r+' = 'r'): Promise<FileHandle> {
  try {
    return await open(path, flags);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DiskError('DISK_NOT_FOUND', `cannot open ${path}: ${code ?? 'error'}`, { cause: err });
  }
}

/** Refuses to overwrite an existing destination. */
export async function ensureAbsent(path: string): Promise<void> {
  try {
    await access(path);
  } catch {
    return;
  }
  throw new DiskError('DISK_EXISTS', `${path} already exists (vmcrypt never overwrites a disk; remove it first)`);
}

/** Removes temp files a crashed run left beside `target` and says so. */
export async function cleanStale(target: string, onNotice: NoticeFn | undefined): Promise<void> {
  for (const p of await cleanStaleTemps(target)) onNotice?.(`removed stale temporary file ${p} left by an interrupted run`);
}

/** Bytes a file really occupies (holes excluded). */
export async function allocatedBytes(path: string): Promise<number> {
  const st = await stat(path);
  return st.blocks * 512;
}
