import { randomBytes } from 'node:crypto';
import { CryptoError } from './errors.js';
import { abytes } from './guards.js';

/** Length of a data encryption key: AES-256. */
export const DEK_BYTES = 32;

/** A fresh random 256-bit DEK. The caller zeroes it (`zero(dek)`) when done. */
export function generateDek(): Buffer {
  return randomBytes(DEK_BYTES);
}

/** The 64 lowercase hex characters a key file holds (and the LUKS keyslot passphrase). */
export function dekToHex(dek: Buffer): string {
  abytes(dek, DEK_BYTES, 'dek');
  return dek.toString('hex');
}

/**
 * Parses a key file's text: exactly 64 hex characters, surrounding whitespace (a trailing
 * newline) allowed. The message never echoes the input.
 */
export function dekFromHex(text: string): Buffer {
  const s = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(s)) {
    throw new CryptoError('MALFORMED', `a key must be exactly 64 hex characters (got ${s.length} characters)`);
  }
  return Buffer.from(s, 'hex');
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/**
 * dekFromHex for a key file's raw bytes, without turning them into a JS string (strings cannot be
 * zeroed; the caller zeroes `bytes`). Same rules: 64 hex characters, whitespace around allowed.
 */
export function dekFromHexBytes(bytes: Uint8Array): Buffer {
  let start = 0;
  let end = bytes.length;
  while (start < end && isSpace(bytes[start]!)) start++;
  while (end > start && isSpace(bytes[end - 1]!)) end--;
  const bad = (): CryptoError => new CryptoError('MALFORMED', `a key must be exactly 64 hex characters (got ${end - start} characters)`);
  if (end - start !== DEK_BYTES * 2) throw bad();
  const out = Buffer.alloc(DEK_BYTES);
  for (let i = 0; i < DEK_BYTES; i++) {
    const hi = hexValue(bytes[start + 2 * i]!);
    const lo = hexValue(bytes[start + 2 * i + 1]!);
    if (hi < 0 || lo < 0) {
      out.fill(0);
      throw bad();
    }
    out[i] = (hi << 4) | lo;
  }
  return out;
}
