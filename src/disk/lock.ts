import { link, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { pidAlive, tempPathFor } from '../fs/atomic-file.js';
import { openPrivateFile } from '../fs/private-files.js';
import { DiskError } from './errors.js';
import type { NoticeFn } from './types.js';

/**
 * Advisory lock beside a disk file (`.NAME.vmcrypt-lock`, holding "PID HOST" of its owner) so two
 * vmcrypt operations never rewrite the same disk at once — two processes, or two calls in one
 * process (the host agent runs this module in its daemon). A lock whose process is gone (kill -9)
 * is removed with a notice; a lock of another host (shared datastore) is never judged stale here.
 * It does not see QEMU's own image locks: callers run bulk operations on powered-off VMs only.
 */
export function lockPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.vmcrypt-lock`);
}

/** A lock file younger than this with no owner written yet is being created, not stale. */
const FRESH_MS = 10_000;

/** Locks this process holds (absolute paths): its own pid in a lock file does not mean stale. */
const held = new Set<string>();

/** The lock file appears with its owner already written (link of a finished file): never half-written. */
async function tryCreate(target: string, lock: string): Promise<boolean> {
  // Named like the disk's temp files, so a leftover of a kill at this instant is cleaned with them.
  const tmp = tempPathFor(target);
  const fh = await openPrivateFile(tmp, 'wx');
  try {
    await fh.writeFile(`${process.pid} ${hostname()}\n`);
  } finally {
    await fh.close();
  }
  try {
    await link(tmp, lock);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/** Why the existing lock must be respected, or undefined when its owner is gone. */
async function liveOwner(lock: string): Promise<string | undefined> {
  const text = await readFile(lock, 'utf8').catch(() => '');
  const m = /^(\d+)(?:[ \t]+(\S+))?\s*$/.exec(text);
  if (m === null) {
    // Written by an older vmcrypt that opened the file before writing its pid: judge by age.
    const st = await stat(lock).catch(() => undefined);
    return st !== undefined && Date.now() - st.mtimeMs < FRESH_MS ? 'an operation that is starting' : undefined;
  }
  const pid = Number(m[1]);
  const host = m[2];
  if (host !== undefined && host !== hostname()) return `pid ${pid} on host ${host}`;
  // Our own pid in a lock we do not hold: left by an earlier process that had the same pid.
  if (pid > 0 && pid !== process.pid && pidAlive(pid)) return `pid ${pid}`;
  return undefined;
}

export async function withDiskLock<T>(target: string, onNotice: NoticeFn | undefined, fn: () => Promise<T>): Promise<T> {
  const lock = resolve(lockPathFor(target));
  if (held.has(lock)) throw new DiskError('DISK_BUSY', `${target} is being changed by another vmcrypt operation of this process`);
  held.add(lock);
  try {
    for (let attempt = 0; !(await tryCreate(target, lock)); attempt++) {
      const owner = await liveOwner(lock);
      if (owner !== undefined) throw new DiskError('DISK_BUSY', `${target} is being changed by another vmcrypt operation (${owner})`);
      if (attempt >= 3) throw new DiskError('DISK_BUSY', `${target} is locked by another vmcrypt operation (${lock})`);
      await unlink(lock).catch(() => undefined);
      onNotice?.(`removed stale lock ${lock} left by an interrupted run`);
    }
    try {
      return await fn();
    } finally {
      await unlink(lock).catch(() => undefined);
    }
  } finally {
    held.delete(lock);
  }
}
