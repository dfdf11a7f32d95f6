import { createHash, randomBytes } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { CryptoError } from '../../crypto/errors.js';
import { openSealed, seal } from '../../crypto/gcm-seal.js';
import { SealPurpose } from '../../crypto/seal-purpose.js';
import { HostError } from '../errors.js';

/**
 * Sealed stream: big files written as they are produced (guest memory dumps, core dumps),
 * never in clear on disk. Layout:
 *
 *   "VMCRYPT-SEALED/2\n" ‖ header JSON (≤ 4 KiB, no key bytes) ‖ "\n"
 *   { u32 BE length ‖ gcm-seal box } per chunk (≤ 1 MiB plaintext each)
 *
 * Every box has purpose "sealed-stream-chunk" and is bound to sha256(magic ‖ header line),
 * its index and a final flag, so chunks cannot be reordered, dropped, moved to another file
 * or the file truncated: the last chunk has the final flag and nothing may follow it. The
 * writer puts a random `streamId` in every header, so two files with otherwise equal headers
 * (same key, same millisecond) still cannot trade chunks.
 * Files of the pre-2.0 format ("VMCRYPT-SEALED/1\n": version-1 boxes whose AAD is
 * sha256(line) ‖ be32(index) ‖ final byte) are still read; their chunks only.
 */
export const SEALED_MAGIC = 'VMCRYPT-SEALED/2\n';
export const SEALED_MAGIC_V1 = 'VMCRYPT-SEALED/1\n';
export const SEALED_CHUNK_BYTES = 1 << 20;
const MAX_HEADER_BYTES = 4096;
const MAX_RECORD_BYTES = SEALED_CHUNK_BYTES + 1024;

export interface SealedHeader {
  readonly kind: 'coredump' | 'guest-memory' | 'vm-log';
  /** Id of the key that seals it (the host key id, or the VM's KEK id). */
  readonly keyId: string;
  readonly createdAt: string;
  readonly [extra: string]: unknown;
}

const chunkContext = (headerHash: Buffer, index: number, final: boolean) =>
  ({ purpose: SealPurpose.SEALED_STREAM_CHUNK, binding: [headerHash, index, final ? 1 : 0] }) as const;

function legacyChunkAad(headerHash: Buffer, index: number, final: boolean): Buffer {
  const b = Buffer.alloc(headerHash.length + 5);
  headerHash.copy(b, 0);
  b.writeUInt32BE(index, headerHash.length);
  b[headerHash.length + 4] = final ? 1 : 0;
  return b;
}

export class SealedStreamWriter {
  readonly #fh: FileHandle;
  readonly #key: Buffer;
  readonly #hash: Buffer;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #index = 0;
  #pos: number;

  private constructor(fh: FileHandle, key: Buffer, hash: Buffer, pos: number) {
    this.#fh = fh;
    this.#key = key;
    this.#hash = hash;
    this.#pos = pos;
  }

  /** Starts a sealed file on `fh` (opened for writing). Keeps its own copy of `key` until finish(). */
  static async start(fh: FileHandle, key: Buffer, header: SealedHeader): Promise<SealedStreamWriter> {
    const line = Buffer.from(SEALED_MAGIC + JSON.stringify({ ...header, streamId: randomBytes(16).toString('hex') }) + '\n', 'utf8');
    if (line.length > MAX_HEADER_BYTES) throw new HostError('HOST_BAD_REQUEST', 'sealed file header too long');
    await fh.write(line, 0, line.length, 0);
    return new SealedStreamWriter(fh, Buffer.from(key), createHash('sha256').update(line).digest(), line.length);
  }

  async write(data: Buffer): Promise<void> {
    let off = 0;
    while (off < data.length) {
      const take = Math.min(SEALED_CHUNK_BYTES - this.#pendingBytes, data.length - off);
      this.#pending.push(Buffer.from(data.subarray(off, off + take)));
      this.#pendingBytes += take;
      off += take;
      if (this.#pendingBytes === SEALED_CHUNK_BYTES) await this.#flush(false);
    }
  }

  /** Seals what is left as the final chunk and zeroes the key copy. */
  async finish(): Promise<void> {
    try {
      await this.#flush(true);
    } finally {
      this.#key.fill(0);
    }
  }

  /** Zeroes the key copy without writing (the caller removes the partial file). */
  abort(): void {
    this.#key.fill(0);
    for (const p of this.#pending) p.fill(0);
  }

  async #flush(final: boolean): Promise<void> {
    const plain = Buffer.concat(this.#pending);
    for (const p of this.#pending) p.fill(0);
    this.#pending = [];
    this.#pendingBytes = 0;
    const env = seal(this.#key, plain, chunkContext(this.#hash, this.#index++, final));
    plain.fill(0);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(env.length);
    const rec = Buffer.concat([len, env]);
    await this.#fh.write(rec, 0, rec.length, this.#pos);
    this.#pos += rec.length;
  }
}

async function readExact(fh: FileHandle, len: number, pos: number): Promise<Buffer> {
  const buf = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(buf, got, len - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === len ? buf : buf.subarray(0, got);
}

/** Reads the header of a sealed file (no key needed). */
export async function readSealedHeader(path: string): Promise<{ header: SealedHeader; bodyOffset: number; hash: Buffer; legacy: boolean }> {
  const fh = await open(path, 'r');
  try {
    const head = await readExact(fh, MAX_HEADER_BYTES, 0);
    const text = head.toString('latin1');
    const legacy = text.startsWith(SEALED_MAGIC_V1);
    if (!legacy && !text.startsWith(SEALED_MAGIC)) throw new HostError('HOST_COREDUMP_INVALID', `${path}: not a vmcrypt sealed file`);
    const nl = text.indexOf('\n', SEALED_MAGIC.length);
    if (nl < 0) throw new HostError('HOST_COREDUMP_INVALID', `${path}: header too long or truncated`);
    const line = head.subarray(0, nl + 1);
    let header: unknown;
    try {
      header = JSON.parse(line.subarray(SEALED_MAGIC.length).toString('utf8'));
    } catch {
      throw new HostError('HOST_COREDUMP_INVALID', `${path}: header is not JSON`);
    }
    const h = header as Record<string, unknown>;
    if (typeof h !== 'object' || h === null || typeof h['kind'] !== 'string' || typeof h['keyId'] !== 'string') {
      throw new HostError('HOST_COREDUMP_INVALID', `${path}: header lacks kind/keyId`);
    }
    return { header: h as SealedHeader, bodyOffset: line.length, hash: createHash('sha256').update(line).digest(), legacy };
  } finally {
    await fh.close();
  }
}

/**
 * Decrypts a sealed file chunk by chunk into `sink`. A wrong key fails on the first chunk
 * (COREDUMP_WRONG_KEY) before anything is written; tampering or truncation fails with
 * COREDUMP_INVALID.
 */
export async function openSealedFile(path: string, key: Buffer, sink: (plain: Buffer) => Promise<void>): Promise<SealedHeader> {
  const { header, bodyOffset, hash, legacy } = await readSealedHeader(path);
  const fh = await open(path, 'r');
  try {
    let pos = bodyOffset;
    for (let index = 0; ; index++) {
      const lenBuf = await readExact(fh, 4, pos);
      if (lenBuf.length < 4) throw new HostError('HOST_COREDUMP_INVALID', `${path}: truncated (no final chunk)`);
      const len = lenBuf.readUInt32BE(0);
      if (len > MAX_RECORD_BYTES) throw new HostError('HOST_COREDUMP_INVALID', `${path}: chunk ${index} too long`);
      const env = await readExact(fh, len, pos + 4);
      if (env.length < len) throw new HostError('HOST_COREDUMP_INVALID', `${path}: truncated chunk ${index}`);
      pos += 4 + len;
      const atEnd = (await readExact(fh, 1, pos)).length === 0;
      let plain: Buffer;
      try {
        const context = chunkContext(hash, index, atEnd);
        plain = legacy ? openSealed(key, env, context, { v1Aad: legacyChunkAad(hash, index, atEnd) }) : openSealed(key, env, context);
      } catch (err) {
        if (err instanceof CryptoError && err.code === 'WRONG_KEY') {
          throw new HostError('HOST_COREDUMP_WRONG_KEY', `${path}: this key did not seal the file (key id ${JSON.stringify(header.keyId)} expected)`);
        }
        throw new HostError('HOST_COREDUMP_INVALID', `${path}: chunk ${index} failed authentication (tampered, reordered or truncated)`);
      }
      try {
        await sink(plain);
      } finally {
        plain.fill(0);
      }
      if (atEnd) return header;
    }
  } finally {
    await fh.close();
  }
}
