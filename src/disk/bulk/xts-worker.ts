// Worker thread of the bulk engine: XTS over one chunk at a time, keys held only in this thread.
import { parentPort, workerData } from 'node:worker_threads';
import { XtsCipher } from '../../crypto/xts.js';
import { CopyCiphers } from './copy-map.js';
import type { WorkerClose, WorkerClosed, WorkerInit, WorkerJob, WorkerReply } from './protocol.js';

const init = workerData as WorkerInit;
// Native ciphers for mapped jobs, made before cipher() below wipes the transferred keys.
const mapped = CopyCiphers.create(init.srcKey, init.dstKey);
function cipher(key: Uint8Array | undefined): XtsCipher | undefined {
  if (key === undefined) return undefined;
  const b = Buffer.from(key.buffer, key.byteOffset, key.length);
  const c = new XtsCipher(b);
  b.fill(0);
  return c;
}
const src = cipher(init.srcKey);
const dst = cipher(init.dstKey);

let zeros = Buffer.alloc(0);
/** memcmp against zeros: native, and stops at the first non-zero byte (random data: at once). */
function isZero(buf: Buffer): boolean {
  if (zeros.length < buf.length) zeros = Buffer.alloc(buf.length);
  return buf.equals(zeros.subarray(0, buf.length));
}

parentPort?.on('message', (msg: WorkerJob | WorkerClose) => {
  if ('close' in msg) {
    // Scratch memory (WebAssembly kernel, tweaks) held plaintext and tweaks: wipe before exiting.
    src?.destroy();
    dst?.destroy();
    mapped?.destroy();
    const closed: WorkerClosed = { closed: true };
    parentPort?.postMessage(closed);
    parentPort?.close();
    return;
  }
  const job = msg;
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
