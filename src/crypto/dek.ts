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
