import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CryptoError } from './errors.js';
import { abytes, constantTimeEqual, zero } from './guards.js';
import { DEK_BYTES } from './dek.js';
import { KEY_CHECK_BYTES, keyCheckValue } from './key-check.js';

/**
 * DEK wrapping: AES-256-GCM with the KEK's key id in the AAD (docs/crypto.md says why we chose it
 * over RFC 5649). Printable and self-describing:
 *
 *   v1:aes256gcm:<base64( nonce[12] ‖ kcv[16] ‖ ciphertext[32] ‖ tag[16] )>
 *
 * kcv = HMAC-SHA256(KEK, "vmcrypt-wrap-kcv-v1" ‖ nonce)[0..16] tells a wrong KEK from tampering.
 */
export const WRAP_PREFIX = 'v1:aes256gcm:';
const NONCE = 12;
const TAG = 16;
const RAW_LEN = NONCE + KEY_CHECK_BYTES + DEK_BYTES + TAG;
const KCV_LABEL = 'vmcrypt-wrap-kcv-v1';
const MAX_KEY_ID = 1024;

function wrapAad(keyId: string): Buffer {
  if (typeof keyId !== 'string' || keyId.length === 0 || keyId.length > MAX_KEY_ID) {
    throw new CryptoError('BAD_INPUT', `keyId: expected a non-empty string of at most ${MAX_KEY_ID} characters`);
  }
  return Buffer.concat([Buffer.from('vmcrypt-wrap-v1\0'), Buffer.from(keyId, 'utf8')]);
}

/** Wraps a 32-byte DEK under a 32-byte KEK, bound to `keyId` (the KMS id of the KEK). */
export function wrapDek(kek: Buffer, dek: Buffer, keyId: string): string {
  abytes(kek, 32, 'kek');
  abytes(dek, DEK_BYTES, 'dek');
  const aad = wrapAad(keyId);
  const nonce = randomBytes(NONCE);
  const kcv = keyCheckValue(kek, KCV_LABEL, nonce);
  const c = createCipheriv('aes-256-gcm', kek, nonce);
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(dek), c.final()]);
  return WRAP_PREFIX + Buffer.concat([nonce, kcv, ct, c.getAuthTag()]).toString('base64');
}

/**
 * Unwraps what wrapDek produced. Errors: MALFORMED (not our format), WRONG_KEY (this KEK did not
 * wrap it), TAMPERED (right KEK, but the wrapped text or the key id was changed).
 */
export function unwrapDek(kek: Buffer, wrapped: string, keyId: string): Buffer {
  abytes(kek, 32, 'kek');
  const aad = wrapAad(keyId);
  if (typeof wrapped !== 'string' || wrapped.length > 256 || !wrapped.startsWith(WRAP_PREFIX)) {
    throw new CryptoError('MALFORMED', `wrapped key: expected '${WRAP_PREFIX}<base64>'`);
  }
  const b64 = wrapped.slice(WRAP_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new CryptoError('MALFORMED', 'wrapped key: invalid base64');
  const raw = Buffer.from(b64, 'base64');
  if (raw.length !== RAW_LEN) throw new CryptoError('MALFORMED', `wrapped key: expected ${RAW_LEN} bytes, got ${raw.length}`);
  const nonce = raw.subarray(0, NONCE);
  const kcv = raw.subarray(NONCE, NONCE + KEY_CHECK_BYTES);
  const ct = raw.subarray(NONCE + KEY_CHECK_BYTES, RAW_LEN - TAG);
  const tag = raw.subarray(RAW_LEN - TAG);
  if (!constantTimeEqual(kcv, keyCheckValue(kek, KCV_LABEL, nonce))) {
    throw new CryptoError('WRONG_KEY', `wrong key: this KEK did not wrap the DEK (key id ${JSON.stringify(keyId)})`);
  }
  const d = createDecipheriv('aes-256-gcm', kek, nonce);
  d.setAAD(aad);
  d.setAuthTag(tag);
  const out = d.update(ct);
  try {
    d.final();
  } catch (err) {
    zero(out);
    throw new CryptoError('TAMPERED', 'wrapped key was modified or bound to another key id', { cause: err });
  }
  return out;
}
