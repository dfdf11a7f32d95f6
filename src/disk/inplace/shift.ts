import { fdatasyncSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { BulkOp } from '../bulk/protocol.js';
import { DiskError } from '../errors.js';
import { BATCH, RING, SLOT, boundaryAfter, planOf, sharedBytes, windowFor } from './walk-plan.js';
import { walkError, type WalkKeys, type WalkWorkers } from './walk-pool.js';
import type { TraceEntry } from './walk-protocol.js';

/**
 * One in-place walk: payload bytes [lo, hi) move from srcBase to dstBase in the same file while
 * they are converted (XTS tweak = payload sector, the same on both sides).
 *
 * The slack argument (docs/disk.md, "In place"): with D = |dstBase − srcBase|, a write only
 * destroys source bytes the walk has already converted. A crash loses at most the windows after
 * the last durable progress record; they are redone from their sources, which are intact as long
 * as no write lands more than D beyond that record. Windows of W ≤ D/LAG (walk-plan.ts) become
 * durable in order (fdatasync of the disk, then the progress record); window k is written only
 * once windows 0 … k − LAG are durable.
 *
 * Who does what: the workers (walk-worker.ts) claim windows in walk order and read, convert and
 * write them with synchronous I/O; this thread only makes finished windows durable — every run
 * of consecutive written windows with one fdatasync and one record — and publishes the count.
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
  readonly workers: WalkWorkers;
  readonly keys: WalkKeys;
  /** Where to start: the durable boundary of what is already done (hi or lo for a fresh walk). */
  readonly from: number;
  /** An all-zero source window is a never-written LUKS area: it becomes zeros, not ciphertext. */
  readonly sourceHoles: boolean;
  /** Records a durable boundary (after the disk's own fdatasync); durable when it returns. */
  readonly persist: (boundary: number) => void | Promise<void>;
  readonly onChunk?: (boundary: number) => void;
  /** Tests: every write with the durable window count its worker saw, and every recorded boundary. */
  readonly onTrace?: (writes: TraceEntry[]) => void;
  /** Tests: force the workers' pread/pwrite path instead of mapped I/O. */
  readonly io?: 'pread';
}

export const isBackward = (w: Walk): boolean => w.dstBase > w.srcBase;
export const walkStart = (w: Walk): number => (isBackward(w) ? w.hi : w.lo);
export { windowFor };

/** Atomics.waitAsync (ES2024; Node 20 has it, the TypeScript lib this project targets does not declare it). */
type WaitAsync = (a: Int32Array, i: number, v: number, ms: number) => { async: false } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** Waits until `written` moves from `seen` (or `stop` settles); the timeout is only a safety net. */
async function writtenAfter(s: Int32Array, seen: number, stop: Promise<unknown>): Promise<void> {
  const w = waitAsync(s, SLOT.written, seen, 500);
  if (w.async) await Promise.race([w.value, stop]);
}

export async function runShift(job: ShiftJob): Promise<void> {
  const plan = planOf(job, job.from);
  if (plan.windows === 0) return;
  const shared = new SharedArrayBuffer(sharedBytes());
  const s = new Int32Array(shared);
  let failed: unknown;
  const fail = (err: unknown): void => {
    failed ??= err;
    Atomics.store(s, SLOT.failed, 1);
    Atomics.notify(s, SLOT.durable);
  };
  const trace = job.onTrace !== undefined;
  const stopped = job.workers.run({ fd: job.fh.fd, plan, op: job.op, sourceHoles: job.sourceHoles, shared, trace, ...(job.io === undefined ? {} : { io: job.io }) }, job.keys).then((done) => {
    const bad = done.find((d) => d.error !== undefined);
    if (bad?.error !== undefined) fail(walkError(bad.error));
    return done;
  });
  let over = false;
  void stopped.then(() => (over = true));

  let durable = 0;
  try {
    while (failed === undefined && durable < plan.windows) {
      const seen = Atomics.load(s, SLOT.written);
      let upto = durable;
      while (upto < plan.windows && Atomics.load(s, SLOT.ring + (upto % RING)) === 1) upto++;
      if (upto - durable < Math.min(BATCH, plan.windows - durable)) {
        if (over) {
          if (upto === durable) break; // every worker stopped and nothing more was written: checked below
        } else {
          await writtenAfter(s, seen, stopped);
          continue;
        }
      }
      // Every window written in a row becomes durable with one fdatasync and one record.
      fdatasyncSync(job.fh.fd);
      const boundary = boundaryAfter(plan, upto - 1);
      await job.persist(boundary);
      for (let k = durable; k < upto; k++) Atomics.store(s, SLOT.ring + (k % RING), 0);
      durable = upto;
      Atomics.store(s, SLOT.durable, durable);
      Atomics.notify(s, SLOT.durable);
      job.onChunk?.(boundary);
    }
  } catch (err) {
    fail(err);
  }
  // Every worker stops before we return or throw: no write may land after the caller moves on.
  const done = await stopped;
  if (failed !== undefined) throw failed;
  job.onTrace?.(done.flatMap((d) => d.trace ?? []));
  if (durable !== plan.windows) throw new DiskError('DISK_IN_PLACE_STATE', `in-place walk ended with ${durable} of ${plan.windows} windows durable`);
}
