import { VmLog } from './vm-log.js';

/** Lines kept while paused (beyond: the oldest are dropped and the drop is noted). */
const MAX_HELD_LINES = 1000;

/**
 * The VM log of a running VM that can let go of its file for a while: during a live migration
 * both hosts run a QEMU of the VM and both could write NAME.log on the shared datastore, whose
 * encrypted records are bound to their index — two writers would collide. The source pauses
 * (closes the file, holds new lines in memory) before the stream starts; the destination
 * starts paused and opens the file once it owns the VM. A failed migration resumes the source,
 * writing the held lines. Storage migration pauses, copies the file and resumes at the new path.
 * Keeps its own copy of the VM DEK (zeroed on close).
 */
export class PausableLog {
  #path: string;
  readonly #uuid: string;
  readonly #dek: Buffer | undefined;
  #log: VmLog | undefined;
  #held: string[] = [];
  #dropped = 0;
  #closed = false;

  private constructor(path: string, uuid: string, dek: Buffer | undefined) {
    this.#path = path;
    this.#uuid = uuid;
    this.#dek = dek === undefined ? undefined : Buffer.from(dek);
  }

  /** Opened now, or (`paused`) holding lines until resume(). */
  static async open(path: string, uuid: string, dek: Buffer | undefined, paused = false): Promise<PausableLog> {
    const l = new PausableLog(path, uuid, dek);
    if (!paused) {
      try {
        l.#log = await VmLog.open(path, uuid, dek);
      } catch (err) {
        l.#dek?.fill(0);
        throw err;
      }
    }
    return l;
  }

  get path(): string {
    return this.#path;
  }

  append(line: string): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#log !== undefined) return this.#log.append(line);
    if (this.#held.length >= MAX_HELD_LINES) {
      this.#held.shift();
      this.#dropped++;
    }
    this.#held.push(`${new Date().toISOString()} ${line}`);
    return Promise.resolve();
  }

  /** Closes the file; later lines are held in memory. */
  async pause(): Promise<void> {
    const l = this.#log;
    this.#log = undefined;
    await l?.close();
  }

  /** Opens the file again (at `path` when it moved) and writes the held lines. */
  async resume(path = this.#path): Promise<void> {
    if (this.#closed || this.#log !== undefined) return;
    this.#path = path;
    const log = await VmLog.open(path, this.#uuid, this.#dek);
    this.#log = log;
    if (this.#dropped > 0) await log.append(`log: ${this.#dropped} lines dropped while the log was paused`);
    for (const line of this.#held) await log.append(`(held) ${line}`);
    this.#held = [];
    this.#dropped = 0;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#held = [];
    try {
      await this.#log?.close();
    } finally {
      this.#log = undefined;
      this.#dek?.fill(0);
    }
  }
}
