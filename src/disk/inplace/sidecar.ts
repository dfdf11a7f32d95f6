import { fdatasyncSync, writeSync } from 'node:fs';
import { link, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { openPrivateFile } from '../../fs/private-files.js';
import { fsyncDir } from '../../fs/fsync-dir.js';
import { readAt, writeAt } from '../../fs/positional-io.js';
import { DiskError } from '../errors.js';
import { InPlaceOp } from './marker-record.js';

/**
 * Progress of an in-place operation, beside the disk (`.NAME.vmcrypt-inplace`, 0600). It holds
 * positions and phase names only, never key material. Two 512-byte slots written alternately,
 * each with a sequence number and a checksum: a torn write leaves the previous record readable,
 * so one fdatasync per update is enough (no rename, no directory sync).
 */
export const Phase = { prepare: 'prepare', staged: 'staged', data: 'data', finalize: 'finalize', undo: 'undo' } as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

export interface Progress {
  readonly opId: string;
  readonly op: InPlaceOp;
  /** An --abort is rolling the operation back. */
  readonly abort: boolean;
  readonly phase: Phase;
  /** File size before the operation started (prepare is undone by truncating to it). */
  readonly origSize: number;
  /** Geometry, as in the in-progress block: payload bytes, payload offsets before/after, staging area. */
  readonly size: number;
  readonly from: number;
  readonly to: number;
  readonly staging: number;
  /** The walk of the data phase: payload range and the boundary of what is done. */
  readonly lo: number;
  readonly hi: number;
  readonly progress: number;
}

const SLOT = 512;
const JSON_MAX = 400;

export function sidecarPathFor(disk: string): string {
  return join(dirname(disk), `.${basename(disk)}.vmcrypt-inplace`);
}

function bad(path: string, what: string): DiskError {
  return new DiskError('DISK_IN_PLACE_STATE', `in-place progress file ${path} is damaged (${what}); the operation cannot be resumed safely`);
}

function encode(p: Progress, seq: number): Buffer {
  const out = Buffer.alloc(SLOT);
  const json = Buffer.from(JSON.stringify({ v: 1, seq, ...p }));
  if (json.length > JSON_MAX) throw new DiskError('DISK_BAD_INPUT', 'in-place progress record too large');
  out.writeUInt32BE(json.length, 0);
  json.copy(out, 4);
  createHash('sha256').update(out.subarray(0, SLOT - 32)).digest().copy(out, SLOT - 32);
  return out;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function decode(slot: Buffer): (Progress & { seq: number }) | undefined {
  if (slot.length < SLOT) return undefined;
  if (!createHash('sha256').update(slot.subarray(0, SLOT - 32)).digest().equals(slot.subarray(SLOT - 32))) return undefined;
  const len = slot.readUInt32BE(0);
  if (len > JSON_MAX) return undefined;
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(slot.subarray(4, 4 + len).toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const ok = r['v'] === 1 && isInt(r['seq']) && typeof r['opId'] === 'string' && /^[0-9a-f]{32}$/.test(r['opId']) &&
    typeof r['op'] === 'string' && Object.hasOwn(InPlaceOp, r['op']) && typeof r['abort'] === 'boolean' &&
    typeof r['phase'] === 'string' && Object.hasOwn(Phase, r['phase']) &&
    isInt(r['origSize']) && isInt(r['size']) && isInt(r['from']) && isInt(r['to']) && isInt(r['staging']) && isInt(r['lo']) && isInt(r['hi']) && isInt(r['progress']) &&
    (r['lo'] as number) <= (r['hi'] as number) && (r['progress'] as number) >= (r['lo'] as number) && (r['progress'] as number) <= (r['hi'] as number);
  if (!ok) return undefined;
  return {
    seq: r['seq'] as number, opId: r['opId'] as string, op: r['op'] as InPlaceOp, abort: r['abort'] as boolean,
    phase: r['phase'] as Phase, origSize: r['origSize'] as number, size: r['size'] as number, from: r['from'] as number,
    to: r['to'] as number, staging: r['staging'] as number, lo: r['lo'] as number, hi: r['hi'] as number,
    progress: r['progress'] as number,
  };
}

export class Sidecar {
  #seq: number;
  #state: Progress;
  private constructor(readonly path: string, private readonly fh: FileHandle, state: Progress, seq: number) {
    this.#state = state;
    this.#seq = seq;
  }

  get state(): Progress {
    return this.#state;
  }

  /**
   * Creates the sidecar with its first record, durable (file and directory) before returning. The
   * record is written to `….new` and hard-linked into place, so the sidecar never exists without an
   * intact record (a kill between create and write left an empty one that no rerun could use); the
   * link fails with EEXIST rather than replace a sidecar. The caller holds the disk lock, so a
   * leftover `….new` is from a run killed before its sidecar existed (the disk was untouched).
   */
  static async create(disk: string, first: Progress): Promise<Sidecar> {
    const path = sidecarPathFor(disk);
    const tmp = `${path}.new`;
    await unlink(tmp).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    const fh = await openPrivateFile(tmp, 'wx+');
    try {
      const sc = new Sidecar(path, fh, first, 0);
      await sc.save(first);
      await link(tmp, path);
      await unlink(tmp);
      await fsyncDir(dirname(path));
      return sc;
    } catch (err) {
      await fh.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }

  /** The sidecar of `disk`, or undefined when there is none. */
  static async open(disk: string): Promise<Sidecar | undefined> {
    const path = sidecarPathFor(disk);
    let fh: FileHandle;
    try {
      fh = await openPrivateFile(path, 'r+');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const buf = Buffer.alloc(2 * SLOT);
    await readAt(fh, buf, 0);
    const recs = [decode(buf.subarray(0, SLOT)), decode(buf.subarray(SLOT))].filter((r) => r !== undefined);
    const best = recs.sort((x, y) => y.seq - x.seq)[0];
    if (best === undefined) {
      await fh.close();
      throw bad(path, 'no intact record');
    }
    const { seq, ...state } = best;
    return new Sidecar(path, fh, state, seq);
  }

  /** Writes the next record into the other slot and makes it durable. */
  async save(next: Progress): Promise<void> {
    const seq = this.#seq + 1;
    await writeAt(this.fh, encode(next, seq), (seq % 2) * SLOT);
    await this.fh.datasync();
    this.#seq = seq;
    this.#state = next;
  }

  async update(change: Partial<Progress>): Promise<void> {
    await this.save({ ...this.#state, ...change });
  }

  /**
   * The same as update(), synchronously: the data walk records its boundary from the main thread,
   * which has nothing else to do meanwhile (the workers do the I/O), without two thread-pool hops.
   */
  updateSync(change: Partial<Progress>): void {
    const next = { ...this.#state, ...change };
    const seq = this.#seq + 1;
    const rec = encode(next, seq);
    for (let done = 0; done < rec.length; ) done += writeSync(this.fh.fd, rec, done, rec.length - done, (seq % 2) * SLOT + done);
    fdatasyncSync(this.fh.fd);
    this.#seq = seq;
    this.#state = next;
  }

  async close(): Promise<void> {
    await this.fh.close();
  }

  /** The operation is over: the sidecar goes, durably. */
  async remove(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    // `….new` too: a run killed between the link and its unlink left it beside the sidecar.
    for (const p of [this.path, `${this.path}.new`]) {
      await unlink(p).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
    await fsyncDir(dirname(this.path));
  }
}
