import { open, readFile, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DiskError } from './errors.js';
import type { NoticeFn } from './types.js';

/**
 * Advisory lock beside a disk file (`.NAME.vmcrypt-lock`, holding the owner's pid) so two vmcrypt
 * operations never rewrite the same disk at once. A lock whose process is gone (kill -9) is
 * removed with a notice. It does not see QEMU's own image locks: callers run bulk operations on
 * powered-off VMs only.
 */
export function lockPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.vmcrypt-lock`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function withDiskLock<T>(target: string, onNotice: NoticeFn | undefined, fn: () => Promise<T>): Promise<T> {
  const lock = lockPathFor(target);
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(lock, 'wx', 0o600);
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new DiskError('DISK_BUSY', `${target} is locked by another vmcrypt operation (${lock})`);
        }
        throw err;
      }
      const text = await readFile(lock, 'utf8').catch(() => '');
      const pid = Number(text.trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new DiskError('DISK_BUSY', `${target} is being changed by another vmcrypt operation (pid ${pid})`);
      }
      if (text === '' && attempt === 0) {
        // Just created by another process that has not written its pid yet: look again.
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      await unlink(lock).catch(() => undefined);
      onNotice?.(`removed stale lock ${lock} left by an interrupted run`);
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(lock).catch(() => undefined);
  }
}
