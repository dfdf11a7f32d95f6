import { CryptoError } from './errors.js';
import { abytes } from './guards.js';
import { DEK_BYTES } from './dek.js';
import { openSealed, seal, SEAL_OVERHEAD_BYTES } from './gcm-seal.js';
import { SealPurpose } from './seal-purpose.js';
import { unwrapDekV1, WRAP_PREFIX_V1 } from './wrap-v1.js';

/**
 * DEK wrapping: a gcm-seal box under the KEK, purpose "dek-wrap", bound to the KEK's key id
 * (docs/crypto.md says why GCM over RFC 5649). Printable, self-describing, 125 characters:
 *
 *   v2:aes256gcm:<base64( gcm-seal box: header[36] ‖ ciphertext[32] ‖ tag[16] )>
 *
 * unwrapDek also opens the pre-2.0 `v1:aes256gcm:` form (wrap-v1.ts).
 */
export const WRAP_PREFIX = 'v2:aes256gcm:';
const MAX_KEY_ID = 1024;
const MAX_WRAPPED_CHARS = 256;
const V2_RAW_LEN = SEAL_OVERHEAD_BYTES + DEK_BYTES;

function checkKeyId(keyId: string): void {
  if (typeof keyId !== 'string' || keyId.length === 0 || keyId.length > MAX_KEY_ID) {
    throw new CryptoError('BAD_INPUT', `keyId: expected a non-empty string of at most ${MAX_KEY_ID} characters`);
  }
}

const context = (keyId: string) => ({ purpose: SealPurpose.DEK_WRAP, binding: [keyId] }) as const;

/** Wraps a 32-byte DEK under a 32-byte KEK, bound to `keyId` (the KMS id of the KEK). */
export function wrapDek(kek: Buffer, dek: Buffer, keyId: string): string {
  abytes(kek, 32, 'kek');
  abytes(dek, DEK_BYTES, 'dek');
  checkKeyId(keyId);
  return WRAP_PREFIX + seal(kek, dek, context(keyId)).toString('base64');
}

/**
 * Unwraps what wrapDek produced (either version). Errors: MALFORMED (not our format), WRONG_KEY
 * (this KEK did not wrap it), TAMPERED (right KEK, but the wrapped text or the key id was changed).
 */
export function unwrapDek(kek: Buffer, wrapped: string, keyId: string): Buffer {
  abytes(kek, 32, 'kek');
  checkKeyId(keyId);
  const prefix = typeof wrapped === 'string' ? [WRAP_PREFIX, WRAP_PREFIX_V1].find((p) => wrapped.startsWith(p)) : undefined;
  if (prefix === undefined || wrapped.length > MAX_WRAPPED_CHARS) {
    throw new CryptoError('MALFORMED', `wrapped key: expected '${WRAP_PREFIX}<base64>'`);
  }
  const b64 = wrapped.slice(prefix.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new CryptoError('MALFORMED', 'wrapped key: invalid base64');
  const raw = Buffer.from(b64, 'base64');
  if (prefix === WRAP_PREFIX_V1) return unwrapDekV1(kek, raw, keyId);
  if (raw.length !== V2_RAW_LEN) throw new CryptoError('MALFORMED', `wrapped key: expected ${V2_RAW_LEN} bytes, got ${raw.length}`);
  try {
    return openSealed(kek, raw, context(keyId));
  } catch (err) {
    if (err instanceof CryptoError && err.code === 'WRONG_KEY') {
      throw new CryptoError('WRONG_KEY', `wrong key: this KEK did not wrap the DEK (key id ${JSON.stringify(keyId)})`, { cause: err });
    }
    if (err instanceof CryptoError && err.code === 'TAMPERED') {
      throw new CryptoError('TAMPERED', 'wrapped key was modified or bound to another key id', { cause: err });
    }
    throw err;
  }
}
