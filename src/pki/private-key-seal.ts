import { gcmDecrypt, GCM_NONCE_BYTES, GCM_TAG_BYTES } from '../crypto/aes-gcm.js';
import { CryptoError } from '../crypto/errors.js';
import { looksSealed, openSealed, seal } from '../crypto/gcm-seal.js';
import { SealPurpose } from '../crypto/seal-purpose.js';
import { PkiError, PkiErrorCode } from './errors.js';

/**
 * Sealed private key: base64 of a gcm-seal box under a 32-byte master key, purpose
 * "pki-private-key", bound to `context` (the record it belongs to, e.g. the key provider id):
 * a sealed key moved to another record fails to open instead of silently serving the wrong
 * identity. Keys sealed before 2.0 still open:
 *   base64( "VPK" | 0x01 | nonce[12] | ciphertext | tag[16] ), AAD = "VPK" | 0x01 | context
 */
const LEGACY_MAGIC = Buffer.from('VPK', 'ascii');
const LEGACY_VERSION = 0x01;
const LEGACY_HEADER = LEGACY_MAGIC.length + 1;
/** PEM keys are a few KiB; 64 KiB bounds what we try to open. */
const MAX_SEALED_B64 = 96 * 1024;

function checkMasterKey(masterKey: Buffer): void {
  if (!Buffer.isBuffer(masterKey) || masterKey.length !== 32) {
    throw new PkiError(PkiErrorCode.INVALID_ARGUMENT, 'masterKey must be 32 bytes');
  }
}

const sealContext = (context: string) => ({ purpose: SealPurpose.PKI_PRIVATE_KEY, binding: [context] }) as const;

/** Encrypts a PEM private key under a 32-byte master key for storage at rest (JSON-safe string). */
export function sealPrivateKey(keyPem: string, masterKey: Buffer, context = ''): string {
  checkMasterKey(masterKey);
  const clear = Buffer.from(keyPem, 'utf8');
  try {
    return seal(masterKey, clear, sealContext(context)).toString('base64');
  } finally {
    clear.fill(0);
  }
}

function openLegacy(blob: Buffer, masterKey: Buffer, context: string): Buffer {
  if (blob[LEGACY_MAGIC.length] !== LEGACY_VERSION) {
    throw new PkiError(PkiErrorCode.UNSEAL_FAILED, `sealed private key version ${blob[LEGACY_MAGIC.length]} is not supported`);
  }
  const nonce = blob.subarray(LEGACY_HEADER, LEGACY_HEADER + GCM_NONCE_BYTES);
  const ct = blob.subarray(LEGACY_HEADER + GCM_NONCE_BYTES, blob.length - GCM_TAG_BYTES);
  const aad = Buffer.concat([blob.subarray(0, LEGACY_HEADER), Buffer.from(context, 'utf8')]);
  return gcmDecrypt(masterKey, nonce, ct, blob.subarray(blob.length - GCM_TAG_BYTES), aad);
}

/** Opens what sealPrivateKey produced; a wrong master key, context or any altered byte is PKI_UNSEAL_FAILED. */
export function openPrivateKey(sealed: string, masterKey: Buffer, context = ''): string {
  checkMasterKey(masterKey);
  if (typeof sealed !== 'string' || sealed.length > MAX_SEALED_B64) {
    throw new PkiError(PkiErrorCode.UNSEAL_FAILED, 'sealed private key is missing or too large');
  }
  const blob = Buffer.from(sealed, 'base64');
  const legacy = blob.length >= LEGACY_HEADER + GCM_NONCE_BYTES + GCM_TAG_BYTES && blob.subarray(0, LEGACY_MAGIC.length).equals(LEGACY_MAGIC);
  if (!legacy && !looksSealed(blob)) throw new PkiError(PkiErrorCode.UNSEAL_FAILED, 'not a sealed private key');
  let clear: Buffer | undefined;
  try {
    clear = legacy ? openLegacy(blob, masterKey, context) : openSealed(masterKey, blob, sealContext(context));
    return clear.toString('utf8');
  } catch (err) {
    if (!(err instanceof CryptoError)) throw err;
    if (err.code === 'MALFORMED') throw new PkiError(PkiErrorCode.UNSEAL_FAILED, `sealed private key: ${err.message}`);
    throw new PkiError(PkiErrorCode.UNSEAL_FAILED, 'sealed private key does not open (wrong master key or altered data)');
  } finally {
    clear?.fill(0);
  }
}
