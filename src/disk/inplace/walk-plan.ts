import { DiskError } from '../errors.js';

/**
 * Geometry of one in-place walk, shared by the main thread and the walk workers (plain numbers:
 * it crosses postMessage). The walk is cut into windows of W bytes, walked from `from` towards
 * the far end (down to `lo` when backward, up to `hi` when forward); one window is one chunk of
 * work (read, convert, write) and one step of the durable boundary.
 *
 * The slack rule (docs/disk.md, "In place"): with D = |dstBase − srcBase| ≥ LAG · W, window k may
 * be written once windows 0 … k − LAG are durable (disk fdatasync, then the sidecar record). So at
 * most LAG − 1 windows (< D) are written and not yet recorded, and no write lands where a rerun
 * from the recorded boundary still has to read.
 */
export interface WalkPlan {
  readonly back: boolean;
  readonly srcBase: number;
  readonly dstBase: number;
  readonly lo: number;
  readonly hi: number;
  readonly from: number;
  /** Window (= chunk) size: whole sectors, LAG windows fit in the shift. */
  readonly win: number;
  readonly windows: number;
}

const SECTOR = 512;
/** Windows per shift: up to LAG − 1 windows are written ahead of the durable boundary. */
export const LAG = 8;
/**
 * Written windows made durable together: the main thread records once BATCH windows in a row are
 * written (or the walk's last ones), so the workers, LAG − BATCH windows further, rarely reach the
 * gate, and a record (≈ 10–25 µs of CPU on tmpfs, on one of the cores the workers need) is paid
 * once per BATCH windows instead of once per window.
 */
export const BATCH = LAG / 2;
/** Largest window: big enough for cheap syscalls and crypto calls, small enough to stay in the L2 cache. */
export const MAX_WINDOW = 256 << 10;
/** Ring of per-window "written" flags in the shared memory; > LAG windows are ever in flight. */
export const RING = 64;

/** The window size for a shift of D bytes (a whole number of sectors, LAG windows fit in D). */
export function windowFor(shift: number): number {
  const w = Math.min(MAX_WINDOW, Math.floor(shift / LAG / SECTOR) * SECTOR);
  if (w < SECTOR) throw new DiskError('DISK_UNSUPPORTED', `payload shift of ${shift} bytes is too small for an in-place walk`);
  return w;
}

export function planOf(w: { srcBase: number; dstBase: number; lo: number; hi: number }, from: number): WalkPlan {
  const back = w.dstBase > w.srcBase;
  const win = windowFor(Math.abs(w.dstBase - w.srcBase));
  const total = Math.max(0, back ? from - w.lo : w.hi - from);
  return { back, srcBase: w.srcBase, dstBase: w.dstBase, lo: w.lo, hi: w.hi, from, win, windows: Math.ceil(total / win) };
}

/** Payload range [a, b) of window k (k < windows). */
export function windowRange(p: WalkPlan, k: number): [number, number] {
  return p.back ? [Math.max(p.lo, p.from - (k + 1) * p.win), p.from - k * p.win] : [p.from + k * p.win, Math.min(p.hi, p.from + (k + 1) * p.win)];
}

/** The durable boundary once windows 0 … k are durable. */
export function boundaryAfter(p: WalkPlan, k: number): number {
  const [a, b] = windowRange(p, k);
  return p.back ? a : b;
}

/** How many windows must be durable before window k may be written. */
export const gateOf = (k: number): number => k - LAG + 1;

/** Shared memory of a walk (Int32 indices). */
export const SLOT = {
  /** Next window to claim (workers take windows in walk order). */
  next: 0,
  /** Windows durable, published by the main thread after the sidecar record. */
  durable: 1,
  /** Bumped (and notified) by a worker when a batch is ready and when it stops: the main thread waits on it. */
  written: 2,
  /** Non-zero once anything failed: every thread stops. */
  failed: 3,
  /** RING flags: window k written ⇔ ring[k % RING] = 1 (reset by the main thread once k is durable). */
  ring: 8,
} as const;

export const sharedBytes = (): number => 4 * (SLOT.ring + RING);
