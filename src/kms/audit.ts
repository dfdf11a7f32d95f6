import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir } from '../fs/fsync-dir.js';
import { openPrivateFile } from '../fs/private-files.js';

/**
 * One audit record per batch item: who asked what about which object, and the result.
 * Never key bytes: handlers only pass ids, operation names and result messages, and result
 * messages never contain key material.
 */
export interface AuditEntry {
  readonly time: string;
  readonly identity: string;
  readonly operation: string;
  readonly objectId?: string;
  readonly result: 'success' | 'failure';
  readonly reason?: string;
  readonly message?: string;
  readonly peer?: string;
}

export interface AuditLog {
  record(entry: AuditEntry): void;
  /** Resolves once every entry recorded before the call is durable (fsync'd); rejects if it cannot be. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Appends JSON lines to a file (mode 0600). Group commit: entries recorded while one write +
 * fdatasync is running go out together in the next one, so many connections share an fsync.
 * A failed write keeps its lines queued: the next flush tries them again.
 */
export async function openFileAuditLog(path: string): Promise<AuditLog> {
  let fh: FileHandle;
  let created = false;
  try {
    fh = await openPrivateFile(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL);
    created = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    fh = await openPrivateFile(path, 'a');
  }
  if (created) {
    // A new file survives a crash only once its directory entry is on disk.
    await fh.sync();
    await fsyncDir(dirname(path));
  }
  let pending: string[] = [];
  let recorded = 0;
  let durable = 0;
  let running: Promise<void> | undefined;

  const writeOut = async (): Promise<void> => {
    while (pending.length > 0) {
      const lines = pending;
      pending = [];
      try {
        await fh.write(lines.join(''));
        await fh.datasync();
      } catch (err) {
        pending = lines.concat(pending);
        throw err;
      }
      durable += lines.length;
    }
  };

  const flush = async (): Promise<void> => {
    const wanted = recorded;
    while (durable < wanted) {
      running ??= writeOut().finally(() => (running = undefined));
      await running;
    }
  };

  return {
    record(entry) {
      pending.push(JSON.stringify(entry) + '\n');
      recorded++;
    },
    flush,
    async close() {
      try {
        await flush();
      } finally {
        await fh.close();
      }
    },
  };
}

/** Keeps entries in memory (tests). */
export function memoryAuditLog(): AuditLog & { readonly entries: AuditEntry[] } {
  const entries: AuditEntry[] = [];
  return { entries, record: (e) => void entries.push(e), flush: async () => {}, close: async () => {} };
}
