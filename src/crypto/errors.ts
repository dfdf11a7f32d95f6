import { VmcryptError } from '../errors.js';

/** Stable codes of every error src/crypto raises on purpose (docs/crypto.md lists them). */
export const CryptoErrorCode = {
  /** The key does not open this data (key check value or wrap integrity check failed). */
  WRONG_KEY: 'WRONG_KEY',
  /** The key is right but the data was modified (authentication tag failed). */
  TAMPERED: 'TAMPERED',
  /** Not something we wrote: bad magic, version, length or encoding. */
  MALFORMED: 'MALFORMED',
  /** A caller passed a bad argument (wrong key length, non-Buffer, …). */
  BAD_INPUT: 'BAD_INPUT',
} as const;
export type CryptoErrorCode = (typeof CryptoErrorCode)[keyof typeof CryptoErrorCode];

export class CryptoError extends VmcryptError {
  declare readonly code: CryptoErrorCode;
  constructor(code: CryptoErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
