// Worker thread of the bulk engine: XTS over one chunk at a time, keys held only in this thread and
// only during an operation. A worker starts keyless (or armed by workerData, a fresh pool); each
// operation arms it (WorkerArm) and ends with WorkerWipe: ciphers destroyed, mappings dropped, keyless
// and idle until the next operation of this process (pool.ts borrow/release) or WorkerClose.
import { parentPort, workerData } from 'node:worker_threads';
import { XtsCipher } from '../../crypto/xts.js';
import { CopyCiphers } from './copy-map.js';
import type { WorkerArm, WorkerClose, WorkerClosed, WorkerInit, WorkerJob, WorkerReply, WorkerState, WorkerWipe, WorkerWiped } from './protocol.js';

let mapped: CopyCiphers | undefined;
let src: XtsCipher | undefined;
let dst: XtsCipher | undefined;
/** All zeros, as long as the largest chunk seen (isZero below); dropped between operations. */
let zeros = Buffer.alloc(0);

function cipher(key: Uint8Array | undefined): XtsCipher | undefined {
  if (key === undefined) return undefined;
  const b = Buffer.from(key.buffer, key.byteOffset, key.length);
  try {
    return new XtsCipher(b);
  } finally {
    b.fill(0);
  }
}

/** Makes this operation's ciphers, then zeroes the transferred keys (whatever happens). */
function arm(init: WorkerInit): void {
  wipe();
  try {
    // Native ciphers for mapped jobs first: cipher() below wipes the transferred keys.
    mapped = CopyCiphers.create(init.srcKey, init.dstKey);
    src = cipher(init.srcKey);
    dst = cipher(init.dstKey);
  } catch {
    // A refused key: the jobs of this operation fail with "no … key".
  } finally {
    init.srcKey?.fill(0);
    init.dstKey?.fill(0);
  }
}

/** Scratch memory (kernel state, tweaks) held plaintext and key schedules: destroyed, mappings dropped. */
function wipe(): void {
  src?.destroy();
  dst?.destroy();
  mapped?.destroy();
  src = dst = mapped = undefined;
  zeros = Buffer.alloc(0);
}

function state(): WorkerWiped {
  return { wiped: true, holdsKey: src !== undefined || dst !== undefined || (mapped?.holdsKey ?? false), mapped: mapped?.mapped ?? false };
}

if (workerData !== undefined && workerData !== null) arm(workerData as WorkerInit);

/** memcmp against zeros: native, and stops at the first non-zero byte (random data: at once). */
function isZero(buf: Buffer): boolean {
  if (zeros.length < buf.length) zeros = Buffer.alloc(buf.length);
  return buf.equals(zeros.subarray(0, buf.length));
}

parentPort?.on('message', (msg: WorkerJob | WorkerClose | WorkerArm | WorkerWipe | WorkerState) => {
  if ('arm' in msg) {
    arm(msg);
    return;
  }
  if ('wipe' in msg || 'state' in msg) {
    if ('wipe' in msg) wipe();
    parentPort?.postMessage(state());
    return;
  }
  if ('close' in msg) {
    wipe();
    const closed: WorkerClosed = { closed: true };
    parentPort?.postMessage(closed);
    parentPort?.close();
    return;
  }
  const job: WorkerJob = msg;
  if (job.copy !== undefined) {
    parentPort?.postMessage(runMapped(job));
    return;
  }
  const buf = Buffer.from(job.data, 0, job.length);
  let zero = false;
  try {
    if (job.op === 'decrypt' || job.op === 'reencrypt') {
      if (src === undefined) throw new Error('no source key');
      src.decrypt(buf, job.sector);
      if (job.op === 'decrypt') zero = isZero(buf);
    }
    if (job.op === 'encrypt' || job.op === 'reencrypt') {
      if (dst === undefined) throw new Error('no destination key');
      dst.encrypt(buf, job.sector);
    }
    const reply: WorkerReply = { id: job.id, data: job.data, length: job.length, zero };
    parentPort?.postMessage(reply, [job.data]);
  } catch (err) {
    const reply: WorkerReply = { id: job.id, data: job.data, length: job.length, zero, error: err instanceof Error ? err.message : String(err) };
    parentPort?.postMessage(reply, [job.data]);
  }
});

/** A mapped job: the worker converts straight between the two files' mappings (copy-map.ts). */
function runMapped(job: WorkerJob): WorkerReply {
  const base = { id: job.id, data: job.data, length: job.length };
  try {
    if (mapped === undefined) return { ...base, zero: false, unmapped: true };
    const r = mapped.convert(job.op, job.copy!, job.sector * 512, job.length);
    return r === 'unmapped' ? { ...base, zero: false, unmapped: true } : { ...base, zero: r === 'hole' };
  } catch (err) {
    const e = err as { message?: unknown; code?: unknown };
    const code = typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code) ? { code: e.code } : {};
    return { ...base, zero: false, error: typeof e.message === 'string' ? e.message : String(err), ...code };
  }
}
