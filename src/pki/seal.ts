import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { PkiError, PkiErrorCode } from './errors.js';

/**
 * Sealed private key, base64 of:
 *   magic "VPK" (3) | version 0x01 (1) | nonce (12) | AES-256-GCM ciphertext | tag (16)
 * AAD = magic|version|context: a sealed key moved to another record (another context, e.g.
 * another key provider id) fails to open instead of silently serving the wrong identity.
 */
const MAGIC = Buffer.from('VPK', 'ascii');
const VERSION = 0x01;
const HEADER_LEN = MAGIC.length + 1;
const NONCE_LEN = 12;
const TAG_LEN = 16;
/** PEM keys are a few KiB; 64 KiB bounds what we try to open. */
const MAX_SEALED_B64 = 96 * 1024;

function checkMasterKey(masterKey: Buffer): void {
  if (!Buffer.isBuffer(masterKey) || masterKey.length !== 32) {
    throw new PkiError(PkiErrorCode.INVALID_ARGUMENT, 'masterKey must be 32 bytes');
  }
}

function aad(context: string): Buffer {
  return Buffer.concat([MAGIC, Buffer.from([VERSION]), Buffer.from(context, 'utf8')]);
}

/** Encrypts a PEM private key under a 32-byte master key for storage at rest (JSON-safe string). */
export function sealPrivateKey(keyPem: string, masterKey: Buffer, context = ''): string {
  checkMasterKey(masterKey);
  const nonce = randomBytes(NONCE_LEN);
  const cipher = createCipheriv('aes-256-gcm', masterKey, nonce, { authTagLength: TAG_LEN });
  cipher.setAAD(aad(context));
  const clear = Buffer.from(keyPem, 'utf8');
  try {
    const ct = Buffer.concat([cipher.update(clear), cipher.final()]);
    return Buffer.concat([MAGIC, Buffer.from([VERSION]), nonce, ct, cipher.getAuthTag()]).toString('base64');
  } finally {
    clear.fill(0);
  }
}

/** Opens what sealPrivateKey produced; a wrong master key, context or any altered byte is PKI_UNSEAL_FAILED. */
export function openPrivateKey(sealed: string, masterKey: Buffer, context = ''): string {
  checkMasterKey(masterKey);
  if (typeof sealed !== 'string' || sealed.length > MAX_SEALED_B64) {
    throw new PkiError(PkiErrorCode.UNSEAL_FAILED, 'sealed private key is missing or too large');
  }
  const blob = Buffer.from(sealed, 'base64');
  if (blob.length < HEADER_LEN + NONCE_LEN + TAG_LEN || !blob.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new PkiError(PkiErrorCode.UNSEAL_FAILED, 'not a sealed private key');
  }
  if (blob[MAGIC.length] !== VERSION) {
    throw new PkiError(PkiErrorCode.UNSEAL_FAILED, `sealed private key version ${blob[MAGIC.length]} is not supported`);
  }
  const nonce = blob.subarray(HEADER_LEN, HEADER_LEN + NONCE_LEN);
  const ct = blob.subarray(HEADER_LEN + NONCE_LEN, blob.length - TAG_LEN);
  const tag = blob.subarray(blob.length - TAG_LEN);
  const decipher = createDecipheriv('aes-256-gcm', masterKey, nonce, { authTagLength: TAG_LEN });
  decipher.setAAD(aad(context));
  decipher.setAuthTag(tag);
  let clear: Buffer | undefined;
  try {
    clear = Buffer.concat([decipher.update(ct), decipher.final()]);
    return clear.toString('utf8');
  } catch {
    throw new PkiError(PkiErrorCode.UNSEAL_FAILED, 'sealed private key does not open (wrong master key or altered data)');
  } finally {
    clear?.fill(0);
  }
}
