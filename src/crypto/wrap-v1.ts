import { gcmDecrypt, GCM_NONCE_BYTES, GCM_TAG_BYTES } from './aes-gcm.js';
import { CryptoError } from './errors.js';
import { constantTimeEqual } from './guards.js';
import { DEK_BYTES } from './dek.js';
import { KEY_CHECK_BYTES, keyCheckValue } from './key-check.js';

/**
 * Reader of the pre-2.0 wrapped DEK (never written any more; keySafes rewritten by any .vmx
 * update get the sealed-box form):
 *
 *   v1:aes256gcm:<base64( nonce[12] ‖ kcv[16] ‖ ciphertext[32] ‖ tag[16] )>
 *   AAD = "vmcrypt-wrap-v1\0" ‖ keyId; kcv = HMAC-SHA256(KEK, "vmcrypt-wrap-kcv-v1" ‖ nonce)[0..16]
 */
export const WRAP_PREFIX_V1 = 'v1:aes256gcm:';
const RAW_LEN = GCM_NONCE_BYTES + KEY_CHECK_BYTES + DEK_BYTES + GCM_TAG_BYTES;

export function unwrapDekV1(kek: Buffer, raw: Buffer, keyId: string): Buffer {
  if (raw.length !== RAW_LEN) throw new CryptoError('MALFORMED', `wrapped key: expected ${RAW_LEN} bytes, got ${raw.length}`);
  const nonce = raw.subarray(0, GCM_NONCE_BYTES);
  const kcv = raw.subarray(GCM_NONCE_BYTES, GCM_NONCE_BYTES + KEY_CHECK_BYTES);
  if (!constantTimeEqual(kcv, keyCheckValue(kek, 'vmcrypt-wrap-kcv-v1', nonce))) {
    throw new CryptoError('WRONG_KEY', `wrong key: this KEK did not wrap the DEK (key id ${JSON.stringify(keyId)})`);
  }
  const aad = Buffer.concat([Buffer.from('vmcrypt-wrap-v1\0'), Buffer.from(keyId, 'utf8')]);
  try {
    return gcmDecrypt(kek, nonce, raw.subarray(GCM_NONCE_BYTES + KEY_CHECK_BYTES, RAW_LEN - GCM_TAG_BYTES), raw.subarray(RAW_LEN - GCM_TAG_BYTES), aad);
  } catch (err) {
    throw new CryptoError('TAMPERED', 'wrapped key was modified or bound to another key id', { cause: err });
  }
}
