// Worker thread of the in-place walk: reads a window, converts it, waits for the slack gate,
// writes it back — synchronous I/O on the shared descriptor, so a window's bytes stay in this
// core's cache from read to write and no thread hop sits between the steps. Keys only here.
import { parentPort } from 'node:worker_threads';
import { readSync, writeSync } from 'node:fs';
import { XtsCipher } from '../../crypto/xts.js';
import { DiskError } from '../errors.js';
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

function walk(job: WalkStart, trace: TraceEntry[] | undefined): void {
  const { fd, plan, op } = job;
  const s = new Int32Array(job.shared);
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
      // The slack gate: windows 0 … k − LAG durable. The timeout only re-checks `failed`.
      let seen = Atomics.load(s, SLOT.durable);
      while (seen < gateOf(k) && Atomics.load(s, SLOT.failed) === 0) {
        Atomics.wait(s, SLOT.durable, seen, 100);
        seen = Atomics.load(s, SLOT.durable);
      }
      if (Atomics.load(s, SLOT.failed) !== 0) return;
      trace?.push([plan.dstBase + a, v.length, seen]);
      writeFully(fd, v, plan.dstBase + a);
      Atomics.store(s, SLOT.ring + (k % RING), 1);
      if (batchReady(s, plan.windows)) {
        Atomics.add(s, SLOT.written, 1);
        Atomics.notify(s, SLOT.written);
      }
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
