import { closeSync, fsyncSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fsyncDir, fsyncDirSync } from './fsync-dir.js';
import { openPrivateFile, openPrivateFileSync } from './private-files.js';

/**
 * Crash-safe replacement of a file: write `.NAME.vmcrypt-tmp-PID-RAND` beside it, fsync the
 * file, rename over NAME, fsync the directory. A crash leaves NAME either old or new, plus at most
 * a temp file that `cleanStaleTemps` removes on the next run.
 */
const TEMP_MARK = '.vmcrypt-tmp-';

export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}${TEMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Is process `pid` alive on this host (EPERM: alive, someone else's)? */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Temp files writeAtomically of this process is writing now (absolute paths). */
const writing = new Set<string>();

/**
 * Removes temp files a crashed run left beside `target` (their writer process is gone, or it is
 * this process but no writeAtomically of ours is using the file). Returns the paths removed so the
 * caller can say so. Call it holding the disk lock of `target` (lock.ts): the lock is what tells
 * a crashed run from one of another process that is still writing.
 */
export async function cleanStaleTemps(target: string): Promise<string[]> {
  const dir = dirname(target);
  const prefix = `.${basename(target)}${TEMP_MARK}`;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)-[0-9a-f]+$/.exec(name.slice(prefix.length));
    if (m === null || m[1] === undefined) continue;
    const pid = Number(m[1]);
    const p = join(dir, name);
    if (pid === process.pid ? writing.has(resolve(p)) : pidAlive(pid)) continue;
    try {
      await unlink(p);
      removed.push(p);
    } catch {
      // already gone: nothing to clean
    }
  }
  return removed;
}

/**
 * Runs `write` against a fresh temp file beside `target` and atomically installs it as `target`
 * once `write` resolved and the data is on disk. On failure the temp file is removed.
 */
export async function writeAtomically<T>(target: string, write: (fh: FileHandle, tmpPath: string) => Promise<T>): Promise<T> {
  const tmp = tempPathFor(target);
  const fh = await openPrivateFile(tmp, 'wx');
  writing.add(resolve(tmp));
  let ok = false;
  try {
    const result = await write(fh, tmp);
    await fh.sync();
    await fh.close();
    await rename(tmp, target);
    await fsyncDir(dirname(target));
    ok = true;
    return result;
  } finally {
    if (!ok) {
      await fh.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
    }
    writing.delete(resolve(tmp));
  }
}

/**
 * writeAtomically of a small buffer for synchronous callers: the same temp name (so
 * cleanStaleTemps knows it), fsync, rename, fsync of the directory.
 */
export function writeAtomicallySync(target: string, data: Uint8Array): void {
  const tmp = tempPathFor(target);
  const fd = openPrivateFileSync(tmp, 'wx');
  try {
    try {
      writeAll(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing left to remove
    }
    throw err;
  }
  fsyncDirSync(dirname(target));
}

function writeAll(fd: number, data: Uint8Array): void {
  for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off);
}
