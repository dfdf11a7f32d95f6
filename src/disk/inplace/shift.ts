import type { FileHandle } from 'node:fs/promises';
import type { BulkOp } from '../bulk/protocol.js';
import type { XtsPool } from '../bulk/pool.js';
import { readAt, writeAt } from '../../fs/positional-io.js';
import { DiskError } from '../errors.js';

/**
 * One in-place walk: payload bytes [lo, hi) move from srcBase to dstBase in the same file while
 * the pool converts them (XTS tweak = payload sector, the same on both sides).
 *
 * The slack argument (docs/disk.md, "In place"): with D = |dstBase − srcBase|, a chunk's write
 * only destroys source bytes the walk has already converted. A crash loses at most the chunks
 * after the last durable progress record; they are redone from their sources, which are intact
 * as long as no write lands more than D beyond that record. Windows of W = D/2 are made durable
 * in order (fdatasync of the disk, then the progress record), and a window may write only once
 * the window two before it is durable: two windows (≤ D) is the most a crash can leave to redo.
 */
export interface Walk {
  readonly op: BulkOp;
  readonly srcBase: number;
  readonly dstBase: number;
  readonly lo: number;
  readonly hi: number;
}

export interface ShiftJob extends Walk {
  readonly fh: FileHandle;
  readonly pool: XtsPool;
  /** Where to start: the durable boundary of what is already done (hi or lo for a fresh walk). */
  readonly from: number;
  /** An all-zero source chunk is a never-written LUKS area: it becomes zeros, not ciphertext. */
  readonly sourceHoles: boolean;
  /** Records a durable boundary (after the disk's own fdatasync). */
  readonly persist: (boundary: number) => Promise<void>;
  readonly onChunk?: (boundary: number) => void;
}

const SECTOR = 512;
const MAX_CHUNK = 512 << 10;
const LANES = 6;
/** Windows a write may run ahead of the durable boundary: LAG × W ≤ D. */
const LAG = 2;

export const isBackward = (w: Walk): boolean => w.dstBase > w.srcBase;
export const walkStart = (w: Walk): number => (isBackward(w) ? w.hi : w.lo);

/** The window size for a shift of D bytes (a whole number of sectors, LAG windows fit in D). */
export function windowFor(shift: number): number {
  const w = Math.floor(shift / LAG / SECTOR) * SECTOR;
  if (w < SECTOR) throw new DiskError('DISK_UNSUPPORTED', `payload shift of ${shift} bytes is too small for an in-place walk`);
  return w;
}

export async function runShift(job: ShiftJob): Promise<void> {
  const back = isBackward(job);
  const win = windowFor(Math.abs(job.dstBase - job.srcBase));
  const chunk = Math.min(win, MAX_CHUNK);
  const total = back ? job.from - job.lo : job.hi - job.from;
  if (total <= 0) return;
  const windows = Math.ceil(total / win);
  const winRange = (k: number): [number, number] =>
    back ? [Math.max(job.lo, job.from - (k + 1) * win), job.from - k * win] : [job.from + k * win, Math.min(job.hi, job.from + (k + 1) * win)];
  const chunksIn = (k: number): number => {
    const [a, b] = winRange(k);
    return Math.ceil((b - a) / chunk);
  };

  let k = 0;
  let j = 0;
  const next = (): { off: number; len: number; k: number } | undefined => {
    if (k >= windows) return undefined;
    const [a, b] = winRange(k);
    const off = back ? Math.max(a, b - (j + 1) * chunk) : a + j * chunk;
    const len = back ? b - j * chunk - off : Math.min(chunk, b - off);
    const item = { off, len, k };
    if (++j >= chunksIn(k)) {
      k++;
      j = 0;
    }
    return item;
  };

  let durable = 0; // windows made durable, in walk order
  let failed: unknown;
  const left = new Map<number, number>();
  const waiters: { n: number; resolve: () => void }[] = [];
  const wake = (): void => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!;
      if (failed !== undefined || durable >= w.n) {
        waiters.splice(i, 1);
        w.resolve();
      }
    }
  };
  const durableAtLeast = (n: number): Promise<void> =>
    n <= durable || failed !== undefined ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }));

  // Windows complete out of order; they become durable strictly in order, one pump at a time.
  let pumping = false;
  const pump = async (): Promise<void> => {
    if (pumping) return;
    pumping = true;
    try {
      while (failed === undefined && left.get(durable) === 0) {
        // Every window complete in a row becomes durable with one fdatasync and one record.
        let upto = durable;
        while (left.get(upto) === 0) left.delete(upto++);
        await job.fh.datasync();
        const [a, b] = winRange(upto - 1);
        await job.persist(back ? a : b);
        durable = upto;
        job.onChunk?.(back ? a : b);
        wake();
      }
    } finally {
      pumping = false;
    }
  };

  const zeros = Buffer.alloc(chunk);
  const lane = async (): Promise<void> => {
    let ab = new ArrayBuffer(chunk);
    try {
      for (let c = next(); c !== undefined && failed === undefined; c = next()) {
        if (!left.has(c.k)) left.set(c.k, chunksIn(c.k));
        let buf = Buffer.from(ab, 0, c.len);
        const got = await readAt(job.fh, buf, job.srcBase + c.off);
        if (got !== c.len) throw new DiskError('DISK_TRUNCATED', `file ended at byte ${job.srcBase + c.off + got} during an in-place walk`);
        if (!(job.sourceHoles && buf.equals(zeros.subarray(0, c.len)))) {
          const reply = await job.pool.run(job.op, ab, c.len, c.off / SECTOR);
          ab = reply.data;
          buf = Buffer.from(ab, 0, c.len);
        }
        await durableAtLeast(c.k - LAG + 1);
        if (failed !== undefined) return;
        await writeAt(job.fh, buf, job.dstBase + c.off);
        left.set(c.k, left.get(c.k)! - 1);
        await pump();
      }
    } finally {
      new Uint8Array(ab).fill(0);
    }
  };
  const results = await Promise.allSettled(
    Array.from({ length: LANES }, () =>
      lane().catch((err: unknown) => {
        failed ??= err;
        wake();
        throw err;
      }),
    ),
  );
  const firstError = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (firstError !== undefined) throw firstError.reason;
  await pump();
  if (durable !== windows) throw new DiskError('DISK_IN_PLACE_STATE', `in-place walk ended with ${durable} of ${windows} windows durable`);
}
