import { constants } from 'node:fs';
import { rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { chainLine, GENESIS, type ChainState } from './audit/audit-chain.js';
import { auditFiles, lastChainState } from './audit/audit-verify.js';
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

export interface FileAuditLogOptions {
  /** Rotate once the file reaches this size (default 64 MiB): audit.log → audit.log.N, a new audit.log continues the chain. */
  readonly maxBytes?: number;
}

async function openAppend(path: string): Promise<FileHandle> {
  let fh: FileHandle;
  try {
    fh = await openPrivateFile(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return openPrivateFile(path, 'a');
  }
  // A new file survives a crash only once its directory entry is on disk.
  await fh.sync();
  await fsyncDir(dirname(path));
  return fh;
}

/**
 * Appends hash-chained JSON lines (audit/audit-chain.ts) to a file (mode 0600). Group commit:
 * entries recorded while one write + fdatasync is running go out together in the next one, so
 * many connections share an fsync. A failed write keeps its lines queued: the next flush tries
 * them again. Lines are chained when recorded, so the chain follows the order of record().
 */
export async function openFileAuditLog(path: string, opts: FileAuditLogOptions = {}): Promise<AuditLog> {
  const maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
  let chain: ChainState = (await lastChainState(await auditFiles(path))) ?? { seq: 0, hash: GENESIS };
  let fh = await openAppend(path);
  let size = (await fh.stat()).size;

  /** Closes the full file under the next free number and starts a new one; the chain runs on. */
  const rotate = async (): Promise<void> => {
    const files = await auditFiles(path);
    const numbers = files.map((f) => Number(/\.(\d+)$/.exec(f)?.[1] ?? 0));
    const next = Math.max(0, ...numbers) + 1;
    await fh.close();
    await rename(path, `${path}.${next}`);
    fh = await openAppend(path); // fsyncs the directory: the rename and the new file are durable together
    size = 0;
  };

  let pending: string[] = [];
  let recorded = 0;
  let durable = 0;
  let running: Promise<void> | undefined;

  const writeOut = async (): Promise<void> => {
    while (pending.length > 0) {
      const lines = pending;
      pending = [];
      try {
        if (size >= maxBytes) await rotate();
        const text = lines.join('');
        await fh.write(text);
        await fh.datasync();
        size += Buffer.byteLength(text);
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
      const c = chainLine(entry, chain);
      chain = c.state;
      pending.push(c.line + '\n');
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
