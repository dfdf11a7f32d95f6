import { timingSafeEqual } from 'node:crypto';
import { CryptoError } from './errors.js';

/**
 * Labelled guard (noble-ciphers style): `abytes(kek, 32, 'kek')` throws BAD_INPUT naming the
 * argument when it is not a Buffer/Uint8Array of the expected length. Never prints the bytes.
 */
export function abytes(value: unknown, len: number | readonly number[] | undefined, label: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new CryptoError('BAD_INPUT', `${label}: expected bytes, got ${typeof value}`);
  if (len !== undefined) {
    const ok = typeof len === 'number' ? value.length === len : len.includes(value.length);
    if (!ok) {
      const want = typeof len === 'number' ? String(len) : len.join(' or ');
      throw new CryptoError('BAD_INPUT', `${label}: expected ${want} bytes, got ${value.length}`);
    }
  }
  return value;
}

/** Constant-time equality of two byte strings (length is not secret). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

/** Overwrites every given buffer with zeros (key hygiene); ignores undefined. */
export function zero(...bufs: ReadonlyArray<Uint8Array | undefined>): void {
  for (const b of bufs) b?.fill(0);
}
