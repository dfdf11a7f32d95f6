// Worker thread of the in-place walk: per window, waits for the slack gate and converts it from
// its source to its destination through a shared mapping of the file (walk-map.ts); without the
// native addon, reads it, converts it, waits, writes it back — synchronous I/O on the shared
// descriptor, so a window's bytes stay in this core's cache and no thread hop sits between the
// steps. Keys only here.
import { parentPort } from 'node:worker_threads';
import { readSync, writeSync } from 'node:fs';
import { XtsCipher } from '../../crypto/xts.js';
import { DiskError } from '../errors.js';
import { MappedWindows } from './walk-map.js';
import { BATCH, SLOT, RING, gateOf, windowRange } from './walk-plan.js';
import type { TraceEntry, WalkClose, WalkDone, WalkStart } from './walk-protocol.js';

const SECTOR = 512;

function cipher(key: Uint8Array | undefined): XtsCipher | undefined {
  if (key === undefined) return undefined;
  const b = Buffer.from(key.buffer, key.byteOffset, key.length);
  try {
    return new XtsCipher(b);
  } finally {
    b.fill(0);
  }
}

function readFully(fd: number, buf: Buffer, pos: number): void {
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, pos + got);
    if (n === 0) throw new DiskError('DISK_TRUNCATED', `file ended at byte ${pos + got} during an in-place walk`);
    got += n;
  }
}

function writeFully(fd: number, buf: Buffer, pos: number): void {
  for (let done = 0; done < buf.length; ) done += writeSync(fd, buf, done, buf.length - done, pos + done);
}

/**
 * Whether the main thread has a batch to record: the BATCH windows past the durable boundary (or
 * the walk's last ones) are all written. Only then is it woken — waking it after every window cost
 * it a task per window on a core the workers need. Sequentially consistent atomics: of two workers
 * finishing the last windows of a batch at once, at least one sees the other's flag. A stale
 * `durable` only misses a batch the main thread rescans anyway right after its record.
 */
function batchReady(s: Int32Array, windows: number): boolean {
  const d = Atomics.load(s, SLOT.durable);
  const need = Math.min(BATCH, windows - d);
  for (let i = 0; i < need; i++) if (Atomics.load(s, SLOT.ring + ((d + i) % RING)) !== 1) return false;
  return true;
}

/** Waits at the slack gate: windows 0 … k − LAG durable. The timeout only re-checks `failed`. Undefined: stop. */
function passGate(s: Int32Array, k: number): number | undefined {
  let seen = Atomics.load(s, SLOT.durable);
  while (seen < gateOf(k) && Atomics.load(s, SLOT.failed) === 0) {
    Atomics.wait(s, SLOT.durable, seen, 100);
    seen = Atomics.load(s, SLOT.durable);
  }
  return Atomics.load(s, SLOT.failed) !== 0 ? undefined : seen;
}

/** Flags window k written and wakes the main thread when a batch is ready. */
function markWritten(s: Int32Array, k: number, windows: number): void {
  Atomics.store(s, SLOT.ring + (k % RING), 1);
  if (batchReady(s, windows)) {
    Atomics.add(s, SLOT.written, 1);
    Atomics.notify(s, SLOT.written);
  }
}

/**
 * The walk through a shared mapping of its file range (walk-map.ts): after the gate, each window
 * goes from its source bytes to its destination bytes in one native call. Reading the source only
 * after the gate is safe: a write that could land on window k's source belongs to a window at
 * least LAG later, which waits for window k to be durable, i.e. written.
 */
function walkMapped(job: WalkStart, m: MappedWindows, trace: TraceEntry[] | undefined): void {
  const { plan } = job;
  const s = new Int32Array(job.shared);
  for (let k = Atomics.add(s, SLOT.next, 1); k < plan.windows && Atomics.load(s, SLOT.failed) === 0; k = Atomics.add(s, SLOT.next, 1)) {
    const [a, b] = windowRange(plan, k);
    const seen = passGate(s, k);
    if (seen === undefined) return;
    trace?.push([plan.dstBase + a, b - a, seen]);
    m.convert(plan.srcBase + a, plan.dstBase + a, b - a, a / SECTOR, job.sourceHoles);
    markWritten(s, k, plan.windows);
  }
}

function walk(job: WalkStart, trace: TraceEntry[] | undefined): void {
  const { fd, plan, op } = job;
  const s = new Int32Array(job.shared);
  const mapped = job.io === 'pread' ? undefined : MappedWindows.open(
    fd, Math.min(plan.srcBase, plan.dstBase) + plan.lo, Math.max(plan.srcBase, plan.dstBase) + plan.hi,
    op === 'encrypt' ? undefined : job.srcKey, op === 'decrypt' ? undefined : job.dstKey,
  );
  if (mapped !== undefined) {
    try {
      walkMapped(job, mapped, trace);
    } finally {
      mapped.close();
    }
    return;
  }
  const src = cipher(job.srcKey);
  const dst = cipher(job.dstKey);
  const buf = Buffer.alloc(plan.win);
  const zeros = job.sourceHoles ? Buffer.alloc(plan.win) : undefined;
  try {
    for (let k = Atomics.add(s, SLOT.next, 1); k < plan.windows && Atomics.load(s, SLOT.failed) === 0; k = Atomics.add(s, SLOT.next, 1)) {
      const [a, b] = windowRange(plan, k);
      const v = buf.subarray(0, b - a);
      readFully(fd, v, plan.srcBase + a);
      if (zeros === undefined || !v.equals(zeros.subarray(0, v.length))) {
        if (op !== 'encrypt') src!.decrypt(v, a / SECTOR);
        if (op !== 'decrypt') dst!.encrypt(v, a / SECTOR);
      }
      const seen = passGate(s, k);
      if (seen === undefined) return;
      trace?.push([plan.dstBase + a, v.length, seen]);
      writeFully(fd, v, plan.dstBase + a);
      markWritten(s, k, plan.windows);
    }
  } finally {
    buf.fill(0);
    src?.destroy();
    dst?.destroy();
  }
}

parentPort?.on('message', (msg: WalkStart | WalkClose) => {
  if ('close' in msg) {
    parentPort?.close();
    return;
  }
  const trace = msg.trace === true ? [] : undefined;
  let error: WalkDone['error'];
  try {
    walk(msg, trace);
  } catch (err) {
    const e = err as { message?: unknown; code?: unknown };
    error = { message: typeof e.message === 'string' ? e.message : String(err), ...(typeof e.code === 'string' ? { code: e.code } : {}) };
    Atomics.store(new Int32Array(msg.shared), SLOT.failed, 1);
    Atomics.notify(new Int32Array(msg.shared), SLOT.durable);
  } finally {
    for (const k of [msg.srcKey, msg.dstKey]) k?.fill(0);
  }
  // Whatever happened, the main thread must look again (it waits on `written`).
  const s = new Int32Array(msg.shared);
  Atomics.add(s, SLOT.written, 1);
  Atomics.notify(s, SLOT.written);
  const done: WalkDone = { done: true, ...(error === undefined ? {} : { error }), ...(trace === undefined ? {} : { trace }) };
  parentPort?.postMessage(done);
});
