import { KmipClientError, KmipClientErrorCode } from './errors.js';

/** Tag Response Message (KMIP 1.1 §9.1.3.1: 0x42007B), item type Structure (0x01). */
const RESPONSE_MESSAGE_TAG = 0x42007b;
const STRUCTURE_TYPE = 0x01;
const HEADER_BYTES = 8;

export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * Cuts a TLS byte stream into whole KMIP response messages.
 *
 * A message is an 8-byte TTLV header — tag (3 bytes), type (1), length (4, big-endian) — then
 * `length` bytes (KMIP 1.1 §9.1.1). The length is checked against `maxMessageBytes` before any
 * buffer of that size exists, and must be a multiple of 8 (every TTLV item is padded to 8 bytes),
 * so a hostile or broken server cannot make the client allocate without bound.
 */
export class ResponseFramer {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(
    private readonly maxMessageBytes: number = DEFAULT_MAX_RESPONSE_BYTES,
    private readonly server?: string,
  ) {}

  /** Bytes received that do not yet form a whole message. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Adds received bytes; returns every message completed by them (header included). */
  push(chunk: Buffer): Buffer[] {
    if (chunk.length === 0) return [];
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Buffer[] = [];
    for (;;) {
      if (this.buffered < HEADER_BYTES) break;
      const head = this.peek(HEADER_BYTES);
      const tag = head.readUIntBE(0, 3);
      const type = head.readUInt8(3);
      const length = head.readUInt32BE(4);
      if (tag !== RESPONSE_MESSAGE_TAG || type !== STRUCTURE_TYPE) {
        throw this.error(
          KmipClientErrorCode.badResponse,
          `expected a KMIP Response Message, got tag 0x${tag.toString(16).padStart(6, '0')} type ${type}`,
        );
      }
      if (length % 8 !== 0) {
        throw this.error(KmipClientErrorCode.badResponse, `response length ${length} is not a multiple of 8`);
      }
      if (HEADER_BYTES + length > this.maxMessageBytes) {
        throw this.error(
          KmipClientErrorCode.responseTooLarge,
          `response of ${HEADER_BYTES + length} bytes exceeds the maximum of ${this.maxMessageBytes}`,
        );
      }
      if (this.buffered < HEADER_BYTES + length) break;
      out.push(this.take(HEADER_BYTES + length));
    }
    return out;
  }

  /** Forgets (and zeroes) buffered bytes, after the connection closed. */
  reset(): void {
    for (const c of this.chunks) c.fill(0);
    this.chunks = [];
    this.buffered = 0;
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0];
    if (first !== undefined && first.length >= n) return first.subarray(0, n);
    const all = Buffer.concat(this.chunks);
    for (const c of this.chunks) c.fill(0); // responses may carry key bytes: no stray copies
    this.chunks = [all];
    return all.subarray(0, n);
  }

  private take(n: number): Buffer {
    const single = this.chunks.length === 1 && this.chunks[0] !== undefined;
    const all = single ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    if (!single) for (const c of this.chunks) c.fill(0);
    const msg = Buffer.from(all.subarray(0, n));
    all.subarray(0, n).fill(0);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return msg;
  }

  private error(code: KmipClientErrorCode, message: string): KmipClientError {
    return new KmipClientError(code, message, this.server === undefined ? {} : { server: this.server });
  }
}
