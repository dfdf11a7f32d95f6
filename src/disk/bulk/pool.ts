import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DiskError } from '../errors.js';
import { IdleSet } from './idle.js';
import type { BulkOp, CopyTarget, WorkerArm, WorkerClose, WorkerClosed, WorkerJob, WorkerReply, WorkerState, WorkerWipe, WorkerWiped } from './protocol.js';

/**
 * How to start a worker: compiled (dist/…/xts-worker.js) it is a plain worker file. From the
 * sources (vitest, tsx) the worker is .ts, which Node 20 cannot load by itself. First choice: bundle
 * it once per process with esbuild (tsx's own dependency) into one CommonJS script run as an eval'd
 * worker — ~0.1 s, where registering tsx inside every worker (loader-hooks thread, on-the-fly
 * transforms) cost 2 s per pool on a loaded machine. `import.meta.url` is defined as the URL of
 * crypto/xts-native.ts, the only module of the worker that uses it (to find the addon). Fallback:
 * a tiny eval'd bootstrap that registers tsx in the worker and imports the .ts file.
 * `worker` names the worker's .ts source (default: this engine's xts-worker); the in-place walk
 * passes its own. Compiled, the .js beside it is run.
 */
const bundled = new Map<string, string>();
export function workerEntry(worker: URL = new URL('./xts-worker.ts', import.meta.url)): { entry: URL | string; eval: boolean } {
  if (!import.meta.url.endsWith('.ts')) return { entry: new URL(worker.href.replace(/\.ts$/, '.js')), eval: false };
  const req = createRequire(import.meta.url);
  const pkgPath = req.resolve('tsx/package.json');
  const target = worker;
  try {
    const code = bundled.get(target.href) ?? bundleWorker(createRequire(pkgPath), fileURLToPath(target));
    bundled.set(target.href, code);
    return { entry: code, eval: true };
  } catch {
    // esbuild missing or failing: the slower tsx bootstrap below
  }
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  const api = pathToFileURL(join(dirname(pkgPath), pkg.exports['./esm/api']!.import.default)).href;
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(target.href)}); });`;
  return { entry: code, eval: true };
}

function bundleWorker(tsxRequire: NodeJS.Require, entry: string): string {
  const esbuild = tsxRequire('esbuild') as {
    buildSync(o: Record<string, unknown>): { outputFiles: { text: string }[] };
  };
  const nativeUrl = new URL('../../crypto/xts-native.ts', import.meta.url).href;
  const out = esbuild.buildSync({
    entryPoints: [entry], bundle: true, write: false, platform: 'node', format: 'cjs', target: 'node20',
    define: { 'import.meta.url': JSON.stringify(nativeUrl) }, logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

interface Slot {
  readonly worker: Worker;
  busy: number;
  exited: boolean;
  /** The worker confirmed it wiped its cipher scratch memory (WorkerClosed). */
  wiped: boolean;
  /** Waiting for WorkerWiped answers (to WorkerWipe or WorkerState), in order. */
  readonly states: ((s: WorkerWiped) => void)[];
}

/** What one worker holds, as it reports it (tests: idle workers hold no key, no mapping). */
export interface WorkerHolds {
  readonly holdsKey: boolean;
  readonly mapped: boolean;
}

/** Keys of one operation: each worker gets its own copies. */
export interface PoolKeys {
  readonly srcKey?: Buffer | undefined;
  readonly dstKey?: Buffer | undefined;
}

/** How one worker ended: lets tests see that close() waited for wiped, clean exits. */
export interface WorkerExit {
  readonly code: number;
  /** False when the worker exited (or was terminated) without confirming the wipe. */
  readonly wiped: boolean;
}

export interface XtsPoolOptions {
  readonly onWorkerExit?: (exit: WorkerExit) => void;
}

/** A mapped job's I/O error as pwrite would have thrown it (a Node system error with its errno name). */
function ioError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}`), { code, syscall: code === 'ENOSPC' || code === 'EDQUOT' ? 'fallocate' : 'write' });
}

/** A private copy of a key in its own ArrayBuffer, to be transferred (moved, not cloned) to one worker. */
function keyCopy(key: Buffer | undefined): Uint8Array | undefined {
  return key === undefined ? undefined : new Uint8Array(key);
}

/**
 * Workers of a finished copy-mode operation, kept for the next one of this process (the host agent,
 * the bench): booting two workers cost 80–100 ms of a ~0.45 s 1 GiB copy. Kept only after a clean
 * operation, keyless (each worker destroyed its ciphers and mappings and said so) and unref'd, so
 * they never keep the process alive. One set at most; a concurrent operation boots its own.
 */
const idle = new IdleSet<XtsPool>();

/**
 * A fixed set of XTS worker threads (default: one per core). Each operation arms every worker
 * with private copies of its keys (transferred) and disarms them when its last chunk is done.
 */
export class XtsPool {
  readonly #slots: Slot[] = [];
  readonly #pending = new Map<number, { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }>();
  #nextId = 0;
  #failed: Error | undefined;
  /** A chunk of the current operation failed: the set is closed on release, not kept. */
  #tainted = false;
  #disarming: Promise<boolean> | undefined;

  /** An idle set kept by release() if whole and of this size (armed with these keys), else a new one. */
  static borrow(keys: PoolKeys, threads = availableParallelism()): XtsPool {
    const kept = idle.take((k) => k.#reusable() && k.#slots.length === Math.max(1, threads));
    if (kept === undefined) return new XtsPool(keys, threads);
    for (const s of kept.#slots) s.worker.ref();
    kept.#disarming = undefined;
    kept.#arm(keys);
    return kept;
  }

  constructor(keys: PoolKeys, threads = availableParallelism(), options: XtsPoolOptions = {}) {
    const { entry, eval: isEval } = workerEntry();
    for (let i = 0; i < Math.max(1, threads); i++) {
      // execArgv []: the parent's flags (e.g. --input-type from `node -e`) must not leak into workers.
      const worker = new Worker(entry, { eval: isEval, execArgv: [] });
      const slot: Slot = { worker, busy: 0, exited: false, wiped: false, states: [] };
      worker.on('message', (r: WorkerReply | WorkerClosed | WorkerWiped) => {
        if ('closed' in r) {
          slot.wiped = true;
          return;
        }
        if ('wiped' in r) {
          slot.states.shift()?.(r);
          return;
        }
        slot.busy--;
        const p = this.#pending.get(r.id);
        this.#pending.delete(r.id);
        if (r.error !== undefined) this.#tainted = true;
        if (r.error !== undefined && r.code !== undefined) p?.reject(ioError(r.code, r.error));
          else if (r.error !== undefined) p?.reject(new DiskError('DISK_WORKER_FAILED', `worker failed: ${r.error}`));
        else p?.resolve(r);
      });
      worker.on('error', (err) => this.#fail(err));
      worker.on('exit', (code) => {
        slot.exited = true;
        this.#tainted = true;
        for (const settle of slot.states.splice(0)) settle({ wiped: true, holdsKey: true, mapped: true });
        options.onWorkerExit?.({ code, wiped: slot.wiped });
        if (code !== 0) this.#fail(new Error(`worker exited with code ${code}`));
      });
      this.#slots.push(slot);
    }
    this.#arm(keys);
  }

  /**
   * Gives every worker its own copies of this operation's keys, transferred: a structured clone
   * would leave the key bytes in a serialisation buffer nobody zeroes. Our views are then detached.
   */
  #arm(keys: PoolKeys): void {
    this.#tainted = false;
    for (const s of this.#slots) {
      const srcKey = keyCopy(keys.srcKey);
      const dstKey = keyCopy(keys.dstKey);
      try {
        const msg: WorkerArm = { arm: true, ...(srcKey === undefined ? {} : { srcKey }), ...(dstKey === undefined ? {} : { dstKey }) };
        s.worker.postMessage(msg, [srcKey?.buffer, dstKey?.buffer].filter((b): b is ArrayBuffer => b !== undefined));
      } finally {
        // Detached (empty) when the transfer happened; wiped here if it did not.
        for (const k of [srcKey, dstKey]) if (k !== undefined && k.buffer.byteLength > 0) k.fill(0);
      }
    }
  }

  #ask(msg: WorkerWipe | WorkerState): Promise<WorkerHolds[]> {
    return Promise.all(
      this.#slots.map(
        (s) =>
          new Promise<WorkerHolds>((resolve) => {
            if (s.exited) return resolve({ holdsKey: false, mapped: false });
            s.states.push((r) => resolve({ holdsKey: r.holdsKey, mapped: r.mapped }));
            s.worker.postMessage(msg);
          }),
      ),
    );
  }

  /** What each worker holds now, as it reports it. */
  holds(): Promise<WorkerHolds[]> {
    return this.#ask({ state: true });
  }

  /**
   * End of the operation's crypto: every worker destroys its ciphers and mappings (the caller may
   * sync and commit meanwhile). Resolves true when all confirmed they hold nothing. Idempotent.
   */
  disarm(): Promise<boolean> {
    this.#disarming ??= this.#ask({ wipe: true }).then((h) => h.every((w) => !w.holdsKey && !w.mapped));
    return this.#disarming;
  }

  #reusable(): boolean {
    return this.#failed === undefined && !this.#tainted && this.#closing === undefined && this.#pending.size === 0
      && this.#slots.every((s) => !s.exited && s.busy === 0);
  }

  /**
   * The operation succeeded: its workers, disarmed, are kept (unref'd) for the next borrow() of
   * this process, an earlier idle set closed. A set with a failed chunk or worker is closed instead.
   */
  async release(): Promise<void> {
    const clean = await this.disarm();
    if (idle.holds(this)) return;
    if (!clean || !this.#reusable()) {
      await this.close();
      return;
    }
    for (const s of this.#slots) s.worker.unref();
    await idle.keep(this);
  }

  #fail(err: Error): void {
    this.#failed ??= new DiskError('DISK_WORKER_FAILED', `worker thread failed: ${err.message}`, { cause: err });
    for (const p of this.#pending.values()) p.reject(this.#failed);
    this.#pending.clear();
  }

  /** Runs one chunk in the least busy worker; the buffer's ArrayBuffer is transferred and returned. */
  run(op: BulkOp, data: ArrayBuffer, length: number, sector: number): Promise<WorkerReply> {
    return this.#post({ id: this.#nextId++, op, data, length, sector }, [data]);
  }

  /** Runs one mapped chunk (bulk/copy-map.ts): the worker converts between the two files itself. */
  runCopy(op: BulkOp, copy: CopyTarget, length: number, sector: number): Promise<WorkerReply> {
    return this.#post({ id: this.#nextId++, op, data: new ArrayBuffer(0), length, sector, copy }, []);
  }

  #post(job: WorkerJob, transfer: ArrayBuffer[]): Promise<WorkerReply> {
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    const slot = this.#slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    return new Promise<WorkerReply>((resolve, reject) => {
      this.#pending.set(job.id, { resolve, reject });
      slot.busy++;
      slot.worker.postMessage(job, transfer);
    });
  }

  #closing: Promise<void> | undefined;

  /**
   * Asks every worker to wipe its cipher scratch memory and exit; terminates any that does not
   * within 2 s. Idempotent: every call returns the same promise.
   */
  close(): Promise<void> {
    idle.drop(this);
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await Promise.all(
      this.#slots.map(async (s) => {
        if (s.exited) return;
        const exited = new Promise<void>((resolve) => s.worker.once('exit', () => resolve()));
        const close: WorkerClose = { close: true };
        s.worker.postMessage(close);
        const timer = setTimeout(() => void s.worker.terminate(), 2000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}
