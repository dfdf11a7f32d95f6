import { expect } from 'vitest';
import { CryptoError } from '../../src/crypto/errors.js';

/** The CryptoError code `fn` throws (failing the test on any other error), undefined if none. */
export function cryptoErrorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CryptoError);
    return (err as CryptoError).code;
  }
  return undefined;
}
