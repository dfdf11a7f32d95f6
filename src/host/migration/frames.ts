import { createCipheriv, createDecipheriv } from 'node:crypto';
import { HostError } from '../errors.js';

/**
 * Sealed frames of the migration tunnel (channel "tunnel"): AES-256-GCM under the one-time
 * migration key. Wire layout of one frame:
 *
 *   u32 BE  length of ciphertext+tag (≤ MAX_FRAME_PLAIN + 16)
 *   u32 BE  frame counter (0, 1, 2, … per direction)
 *   u8      flags: bit0 last, bit1 reverse (destination → source)
 *   bytes   ciphertext ‖ 16-byte tag
 *
 * nonce = migration nonce (8 bytes) ‖ u32 BE (counter | 0x80000000 for the reverse direction),
 * so the two directions never share a nonce under one key. AAD = migrationId (UTF-8) ‖ counter ‖
 * flags: a frame cannot move to another migration, position or direction, nor gain or lose its
 * "last" mark. The reader accepts frames strictly in order (a gap, a replay or a reorder fails),
 * nothing after "last", and a stream that ends without "last" is truncated.
 */
export const MAX_FRAME_PLAIN = 256 * 1024;
export const FRAME_HEADER_BYTES = 9;
const TAG_BYTES = 16;
export const FrameFlag = { LAST: 1, REVERSE: 2 } as const;
const DIRECTION_BIT = 0x80000000;
const MAX_COUNTER = 0x7fffffff;

export type Direction = 'forward' | 'reverse';

export interface MigrationKey {
  readonly key: Buffer;
  readonly nonce: Buffer;
  readonly migrationId: string;
}

function ivOf(k: MigrationKey, counter: number, dir: Direction): Buffer {
  const iv = Buffer.alloc(12);
  k.nonce.copy(iv, 0, 0, 8);
  iv.writeUInt32BE((counter | (dir === 'reverse' ? DIRECTION_BIT : 0)) >>> 0, 8);
  return iv;
}

function aadOf(k: MigrationKey, counter: number, flags: number): Buffer {
  const tail = Buffer.alloc(5);
  tail.writeUInt32BE(counter, 0);
  tail.writeUInt8(flags, 4);
  return Buffer.concat([Buffer.from(k.migrationId, 'utf8'), tail]);
}

function checkKey(k: MigrationKey): void {
  if (k.key.length !== 32 || k.nonce.length !== 8) throw new HostError('HOST_BAD_REQUEST', 'a migration key is 32 bytes and its nonce 8 bytes');
}

/** Seals one direction's frames; keeps its own key copy until `destroy()`. */
export class FrameSealer {
  readonly #k: MigrationKey;
  readonly #dir: Direction;
  #counter = 0;
  #done = false;

  constructor(k: MigrationKey, dir: Direction) {
    checkKey(k);
    this.#k = { key: Buffer.from(k.key), nonce: Buffer.from(k.nonce), migrationId: k.migrationId };
    this.#dir = dir;
  }

  /**
   * Frames for `data` (split at MAX_FRAME_PLAIN); `last` marks the final one (may be empty).
   * Returns the bytes to write in order (each frame as header, ciphertext, tag: no copy).
   */
  seal(data: Buffer, last = false): Buffer[] {
    const out: Buffer[] = [];
    let off = 0;
    do {
      const part = data.subarray(off, Math.min(off + MAX_FRAME_PLAIN, data.length));
      off += part.length;
      out.push(...this.sealFrame([part], last && off >= data.length));
    } while (off < data.length);
    return out;
  }

  /** One frame holding `parts` (together at most MAX_FRAME_PLAIN bytes), as header, ciphertext…, tag. */
  sealFrame(parts: readonly Buffer[], last = false): Buffer[] {
    if (this.#done) throw new HostError('HOST_MIGRATION_FAILED', 'migration tunnel: frame after the last one');
    if (this.#counter > MAX_COUNTER) throw new HostError('HOST_MIGRATION_FAILED', 'migration tunnel: frame counter exhausted');
    const length = parts.reduce((n, p) => n + p.length, 0);
    if (length > MAX_FRAME_PLAIN) throw new HostError('HOST_MIGRATION_FAILED', 'migration tunnel: frame too large');
    const counter = this.#counter++;
    const flags = (last ? FrameFlag.LAST : 0) | (this.#dir === 'reverse' ? FrameFlag.REVERSE : 0);
    const c = createCipheriv('aes-256-gcm', this.#k.key, ivOf(this.#k, counter, this.#dir));
    c.setAAD(aadOf(this.#k, counter, flags));
    const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
    header.writeUInt32BE(length + TAG_BYTES, 0);
    header.writeUInt32BE(counter, 4);
    header.writeUInt8(flags, 8);
    const out = [header, ...parts.map((p) => c.update(p))];
    c.final();
    out.push(c.getAuthTag());
    if (last) this.#done = true;
    return out;
  }

  destroy(): void {
    this.#done = true;
    this.#k.key.fill(0);
    this.#k.nonce.fill(0);
  }
}

/** What one call to `push` yields: plaintext of ordinary frames in order, and the last frame's once it came. */
export interface Opened {
  readonly data: Buffer[];
  /** Plaintext of the last frame (may be empty), set by the push that opened it. */
  readonly final?: Buffer;
}

/**
 * Opens one direction's frames from a byte stream (any chunking). Throws
 * HOST_MIGRATION_STREAM_TAMPERED on a bad tag, a wrong counter (gap, replay, reorder), a wrong
 * direction, an oversized length or anything after the last frame; `end()` throws it when the
 * stream stopped without the last frame.
 */
export class FrameOpener {
  readonly #k: MigrationKey;
  readonly #dir: Direction;
  #expected = 0;
  #buf: Buffer = Buffer.alloc(0);
  /** Chunks received after #buf, joined only once a whole frame is there (no copy per chunk). */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #need = FRAME_HEADER_BYTES;
  #last = false;

  constructor(k: MigrationKey, dir: Direction) {
    checkKey(k);
    this.#k = { key: Buffer.from(k.key), nonce: Buffer.from(k.nonce), migrationId: k.migrationId };
    this.#dir = dir;
  }

  get complete(): boolean {
    return this.#last;
  }

  push(chunk: Buffer): Opened {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#buf.length + this.#pendingBytes < this.#need && !this.#last) return { data: [] };
    this.#buf = this.#buf.length === 0 && this.#pending.length === 1 ? chunk : Buffer.concat([this.#buf, ...this.#pending]);
    this.#pending = [];
    this.#pendingBytes = 0;
    const data: Buffer[] = [];
    let final: Buffer | undefined;
    while (this.#buf.length >= FRAME_HEADER_BYTES) {
      if (this.#last) throw tampered('data after the last frame');
      const len = this.#buf.readUInt32BE(0);
      if (len < TAG_BYTES || len > MAX_FRAME_PLAIN + TAG_BYTES) throw tampered(`frame length ${len} out of bounds`);
      if (this.#buf.length < FRAME_HEADER_BYTES + len) {
        this.#need = FRAME_HEADER_BYTES + len;
        break;
      }
      const counter = this.#buf.readUInt32BE(4);
      const flags = this.#buf.readUInt8(8);
      if (counter !== this.#expected) throw tampered(`frame ${counter} where ${this.#expected} was expected (gap, replay or reorder)`);
      if ((flags & FrameFlag.REVERSE) !== (this.#dir === 'reverse' ? FrameFlag.REVERSE : 0) || (flags & ~3) !== 0) throw tampered('frame flags invalid');
      const body = this.#buf.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + len);
      const d = createDecipheriv('aes-256-gcm', this.#k.key, ivOf(this.#k, counter, this.#dir));
      d.setAAD(aadOf(this.#k, counter, flags));
      d.setAuthTag(body.subarray(len - TAG_BYTES));
      const plain = d.update(body.subarray(0, len - TAG_BYTES));
      try {
        d.final();
      } catch {
        plain.fill(0);
        throw tampered(`frame ${counter} failed authentication`);
      }
      this.#expected++;
      this.#buf = this.#buf.subarray(FRAME_HEADER_BYTES + len);
      if ((flags & FrameFlag.LAST) !== 0) {
        this.#last = true;
        final = plain;
      } else if (plain.length > 0) data.push(plain);
    }
    if (this.#buf.length < FRAME_HEADER_BYTES) this.#need = FRAME_HEADER_BYTES;
    if (this.#last && this.#buf.length > 0) throw tampered('data after the last frame');
    return final === undefined ? { data } : { data, final };
  }

  /** The stream ended: fine only after the last frame. */
  end(): void {
    if (!this.#last) throw tampered(`stream ended after frame ${this.#expected - 1} without the last frame (truncated)`);
  }

  destroy(): void {
    this.#k.key.fill(0);
    this.#k.nonce.fill(0);
    this.#buf = Buffer.alloc(0);
  }
}

function tampered(why: string): HostError {
  return new HostError('HOST_MIGRATION_STREAM_TAMPERED', `migration stream rejected: ${why}`);
}
