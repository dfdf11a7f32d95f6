import { open, type FileHandle } from 'node:fs/promises';
import type { BulkOp } from './protocol.js';
import type { XtsPool } from './pool.js';
import type { DiskProgress, ProgressFn } from '../types.js';
import { readAt, writeAt } from '../../fs/positional-io.js';
import { DiskError } from '../errors.js';
import { copyMappedAvailable } from './copy-map.js';
import type { CopyTarget } from './protocol.js';

/** Chunk of one worker job: big enough to amortise messaging, small enough to keep 2 per core in flight. */
export const BULK_CHUNK = 2 << 20;
const SECTOR = 512;
let runs = 0;

export interface BulkJob {
  readonly pool: XtsPool;
  readonly op: BulkOp;
  readonly phase: DiskProgress['phase'];
  readonly src: FileHandle;
  /** Byte offset of the payload in src (0 for raw). */
  readonly srcBase: number;
  readonly dst: FileHandle;
  readonly dstBase: number;
  /** Payload bytes (a multiple of 512). */
  readonly length: number;
  /**
   * Treat an all-zero source chunk as a hole and skip it. For a LUKS source an all-zero
   * ciphertext chunk was never written (a real one is all zeros with probability 2^-(8·size)).
   */
  readonly holesInSource: boolean;
  readonly onProgress?: ProgressFn | undefined;
  readonly lanes?: number;
  /**
   * Disarm the pool as soon as the last chunk is converted (its workers wipe their keys and unmap
   * while the caller syncs and commits); the caller still awaits pool.release() or pool.close().
   * Default: false.
   */
  readonly closePool?: boolean;
  /** 'pread' forces the buffered path; default: mapped when the addon has it (VMCRYPT_COPY_IO=pread: never). */
  readonly io?: 'auto' | 'pread';
}

/**
 * Streams `length` bytes from src to dst through the worker pool, several chunks in flight. Mapped
 * (bulk/copy-map.ts): each worker converts a chunk from the source's pages straight into the new
 * file's; else positional reads and writes through a buffer that travels to the worker and back.
 * dst must be a fresh file already truncated to its full size, so every chunk we skip stays a hole.
 */
export async function runBulk(job: BulkJob): Promise<{ bytes: number; holeBytes: number }> {
  const rw = job.io !== 'pread' && copyMappedAvailable() ? await reopenReadWrite(job.dst) : undefined;
  try {
    return await runChunks(job, rw === undefined ? undefined : {
      run: ++runs, srcFd: job.src.fd, srcBase: job.srcBase, dstFd: rw.fd, dstBase: job.dstBase, length: job.length,
      holesInSource: job.holesInSource,
    });
  } finally {
    await rw?.close();
  }
}

/**
 * The new file opened once more, read-write: a shared writable mapping needs O_RDWR, and
 * writeAtomically creates it write-only. Undefined (pread path) where /proc is not mounted.
 */
async function reopenReadWrite(dst: FileHandle): Promise<FileHandle | undefined> {
  try {
    return await open(`/proc/self/fd/${dst.fd}`, 'r+');
  } catch {
    return undefined;
  }
}

async function runChunks(job: BulkJob, mapped: CopyTarget | undefined): Promise<{ bytes: number; holeBytes: number }> {
  let copy = mapped;
  const zeroChunk = Buffer.alloc(BULK_CHUNK);
  let next = 0;
  let done = 0;
  let holeBytes = 0;
  let failed = false;
  const report = (n: number): void => {
    done += n;
    job.onProgress?.({ phase: job.phase, doneBytes: done, totalBytes: job.length });
  };
  const lane = async (): Promise<void> => {
    let ab = new ArrayBuffer(BULK_CHUNK);
    while (!failed && next < job.length) {
      const off = next;
      const len = Math.min(BULK_CHUNK, job.length - off);
      next += len;
      if (copy !== undefined) {
        const r = await job.pool.runCopy(job.op, copy, len, off / SECTOR);
        if (r.unmapped !== true) {
          if (r.zero) holeBytes += len;
          report(len);
          continue;
        }
        copy = undefined; // a file could not be mapped: this chunk and the rest through buffers
      }
      const buf = Buffer.from(ab, 0, len);
      const got = await readAt(job.src, buf, job.srcBase + off);
      if (got !== len) throw new DiskError('DISK_TRUNCATED', `source ended at byte ${job.srcBase + off + got}, expected ${job.srcBase + job.length}`);
      if (job.holesInSource && buf.equals(zeroChunk.subarray(0, len))) {
        holeBytes += len;
        report(len);
        continue;
      }
      const reply = await job.pool.run(job.op, ab, len, off / SECTOR);
      ab = reply.data;
      if (reply.zero) {
        holeBytes += len;
      } else {
        await writeAt(job.dst, Buffer.from(ab, 0, len), job.dstBase + off);
      }
      report(len);
    }
    new Uint8Array(ab).fill(0);
  };
  const lanes = job.lanes ?? 4;
  // Every lane settles before we return or throw: no write may land after the caller cleans up.
  const results = await Promise.allSettled(
    Array.from({ length: lanes }, () =>
      lane().catch((err: unknown) => {
        failed = true;
        throw err;
      }),
    ),
  );
  if (job.closePool === true) void job.pool.disarm();
  const firstError = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (firstError !== undefined) throw firstError.reason;
  return { bytes: job.length, holeBytes };
}
