import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { workerEntry } from '../bulk/pool.js';
import { IdleSet } from '../bulk/idle.js';
import { DiskError, DiskErrorCode } from '../errors.js';
import type { WalkClose, WalkDone, WalkStart } from './walk-protocol.js';

interface Slot {
  readonly worker: Worker;
  exited: boolean;
  /** The walk this worker is running: settled by its WalkDone, or by its exit. */
  current?: ((r: WalkDone) => void) | undefined;
}

/** One walk's keys; each worker gets its own transferred copy. */
export interface WalkKeys {
  readonly srcKey?: Buffer | undefined;
  readonly dstKey?: Buffer | undefined;
}

/** Walk workers: one per core, at least 2, at most 4 (more would only wait at the slack gate). */
export const walkThreads = (): number => Math.max(2, Math.min(4, availableParallelism()));

/**
 * Workers of a finished walk, kept for the next in-place operation of this process (a host agent
 * runs many): booting a worker costs ~60 ms of CPU, on the cores the walk needs. They hold no key
 * (each wipes its copies and cipher state when its walk ends) and are unref'd while idle, so they
 * never keep the process alive.
 */
const idle = new IdleSet<WalkWorkers>();

/**
 * The worker threads of an in-place walk. They start without keys, so the driver boots them
 * while the main thread unlocks keyslots (PBKDF2, AF merge); `run` hands each one the walk and
 * private copies of the keys, transferred (moved, not cloned) so no serialised copy is left.
 */
export class WalkWorkers {
  readonly #slots: Slot[] = [];
  /** False once a walk reported an error or a worker exited: such a set is closed, never kept. */
  #healthy = true;

  /** An idle set kept by release() if it is whole and the size asked for, else new workers. */
  static borrow(threads = walkThreads()): WalkWorkers {
    const kept = idle.take((k) => k.#reusable() && k.threads === threads);
    if (kept === undefined) return new WalkWorkers(threads);
    for (const s of kept.#slots) s.worker.ref();
    return kept;
  }

  constructor(threads = walkThreads()) {
    const { entry, eval: isEval } = workerEntry(new URL('./walk-worker.ts', import.meta.url));
    for (let i = 0; i < Math.max(1, threads); i++) {
      // execArgv []: the parent's flags (e.g. --input-type from `node -e`) must not leak into workers.
      const worker = new Worker(entry, { eval: isEval, execArgv: [] });
      const slot: Slot = { worker, exited: false };
      worker.on('message', (r: WalkDone) => {
        if (r.error !== undefined) this.#healthy = false;
        const settle = slot.current;
        slot.current = undefined;
        settle?.(r);
      });
      worker.on('error', (err) => slot.current?.({ done: true, error: { message: `walk worker failed: ${err.message}`, code: 'DISK_WORKER_FAILED' } }));
      worker.on('exit', (code) => {
        slot.exited = true;
        this.#healthy = false;
        slot.current?.({ done: true, error: { message: `walk worker exited with code ${code}`, code: 'DISK_WORKER_FAILED' } });
        slot.current = undefined;
      });
      this.#slots.push(slot);
    }
  }

  get threads(): number {
    return this.#slots.length;
  }

  #reusable(): boolean {
    return this.#healthy && this.#slots.every((s) => !s.exited && s.current === undefined);
  }

  /**
   * Done with these workers: keeps them for the next borrow() of this process when every walk
   * went well (an earlier idle set is closed), closes them otherwise.
   */
  async release(): Promise<void> {
    if (idle.holds(this)) return;
    if (!this.#reusable()) {
      await this.close();
      return;
    }
    for (const s of this.#slots) s.worker.unref();
    await idle.keep(this);
  }

  /** Starts the walk in every worker; resolves with each worker's report once all have stopped. */
  run(job: Omit<WalkStart, 'start' | 'srcKey' | 'dstKey'>, keys: WalkKeys): Promise<WalkDone[]> {
    return Promise.all(
      this.#slots.map(
        (slot) =>
          new Promise<WalkDone>((resolve) => {
            if (slot.exited) {
              resolve({ done: true, error: { message: 'walk worker is gone', code: 'DISK_WORKER_FAILED' } });
              return;
            }
            const srcKey = keys.srcKey === undefined ? undefined : new Uint8Array(keys.srcKey);
            const dstKey = keys.dstKey === undefined ? undefined : new Uint8Array(keys.dstKey);
            try {
              const start: WalkStart = { ...job, start: true, ...(srcKey === undefined ? {} : { srcKey }), ...(dstKey === undefined ? {} : { dstKey }) };
              slot.current = resolve;
              slot.worker.postMessage(start, [srcKey?.buffer, dstKey?.buffer].filter((b): b is ArrayBuffer => b !== undefined));
            } catch (err) {
              slot.current = undefined;
              resolve({ done: true, error: { message: `cannot start the walk worker: ${err instanceof Error ? err.message : String(err)}`, code: 'DISK_WORKER_FAILED' } });
            } finally {
              // Detached (empty) when the transfer happened; wiped here otherwise.
              for (const k of [srcKey, dstKey]) if (k !== undefined && k.buffer.byteLength > 0) k.fill(0);
            }
          }),
      ),
    );
  }

  /** Lets every worker finish and exit; terminates any that does not within 2 s. */
  async close(): Promise<void> {
    idle.drop(this);
    this.#healthy = false;
    await Promise.all(
      this.#slots.map(async (s) => {
        if (s.exited) return;
        const exited = new Promise<void>((resolve) => s.worker.once('exit', () => resolve()));
        const close: WalkClose = { close: true };
        s.worker.postMessage(close);
        const timer = setTimeout(() => void s.worker.terminate(), 2000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}

/** The error a worker reported, as the error the caller would have got doing the I/O itself. */
export function walkError(e: NonNullable<WalkDone['error']>): Error {
  if (e.code !== undefined && Object.hasOwn(DiskErrorCode, e.code)) return new DiskError(e.code as DiskErrorCode, e.message);
  return Object.assign(new Error(e.message), e.code === undefined ? {} : { code: e.code });
}
