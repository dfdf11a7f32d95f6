import { CryptoError } from './errors.js';
import type { SealPurpose } from './seal-purpose.js';

/** One element of where sealed bytes belong: an id (string), a hash (bytes) or a position (uint). */
export type BindingPart = string | number | Uint8Array;

/** What the sealed bytes are (purpose) and where they belong (binding), authenticated as GCM AAD. */
export interface SealContext {
  readonly purpose: SealPurpose;
  readonly binding: readonly BindingPart[];
}

const MAX_PARTS = 16;
const MAX_PART_BYTES = 4096;
const PURPOSE_RE = /^[a-z0-9-]{1,64}$/;
const PART_UTF8 = 1;
const PART_BYTES = 2;
const PART_UINT = 3;

/**
 * Unambiguous encoding (no two contexts give the same bytes):
 *   u8 len ‖ purpose ‖ u8 count ‖ { u8 type ‖ u32 BE len ‖ value } per part
 * type 1 = UTF-8 string, 2 = bytes, 3 = unsigned integer as u64 BE.
 */
export function encodeSealContext(ctx: SealContext): Buffer {
  if (typeof ctx !== 'object' || ctx === null || typeof ctx.purpose !== 'string' || !PURPOSE_RE.test(ctx.purpose)) {
    throw new CryptoError('BAD_INPUT', 'seal context: purpose must be a SealPurpose label');
  }
  if (!Array.isArray(ctx.binding) || ctx.binding.length === 0 || ctx.binding.length > MAX_PARTS) {
    throw new CryptoError('BAD_INPUT', `seal context: binding must hold 1 to ${MAX_PARTS} parts`);
  }
  const out: Buffer[] = [Buffer.from([ctx.purpose.length]), Buffer.from(ctx.purpose, 'latin1'), Buffer.from([ctx.binding.length])];
  ctx.binding.forEach((part, i) => {
    let type: number;
    let value: Buffer;
    if (typeof part === 'string') {
      type = PART_UTF8;
      value = Buffer.from(part, 'utf8');
    } else if (typeof part === 'number') {
      if (!Number.isSafeInteger(part) || part < 0) throw new CryptoError('BAD_INPUT', `seal context: binding part ${i} must be a non-negative safe integer`);
      type = PART_UINT;
      value = Buffer.alloc(8);
      value.writeBigUInt64BE(BigInt(part));
    } else if (part instanceof Uint8Array) {
      type = PART_BYTES;
      value = Buffer.from(part);
    } else {
      throw new CryptoError('BAD_INPUT', `seal context: binding part ${i} must be a string, integer or bytes`);
    }
    if (value.length > MAX_PART_BYTES) throw new CryptoError('BAD_INPUT', `seal context: binding part ${i} exceeds ${MAX_PART_BYTES} bytes`);
    const head = Buffer.alloc(5);
    head[0] = type;
    head.writeUInt32BE(value.length, 1);
    out.push(head, value);
  });
  return Buffer.concat(out);
}
