import { createCipheriv, createDecipheriv } from 'node:crypto';
import { CryptoError } from './errors.js';

/**
 * Raw AES-256-GCM (NIST SP 800-38D) with a 96-bit nonce and a 128-bit tag: the only place the
 * project builds GCM cipher objects. Formats are built on top of it in gcm-seal.ts (and the
 * legacy readers that only open what earlier versions wrote); callers own nonce uniqueness.
 */
export const GCM_NONCE_BYTES = 12;
export const GCM_TAG_BYTES = 16;

export function gcmEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): { ciphertext: Buffer; tag: Buffer } {
  const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_BYTES });
  c.setAAD(aad);
  const ciphertext = Buffer.concat([c.update(plaintext), c.final()]);
  return { ciphertext, tag: c.getAuthTag() };
}

/** Throws TAMPERED when the tag fails; partial plaintext is zeroed before it is dropped. */
export function gcmDecrypt(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, aad: Uint8Array): Buffer {
  if (tag.length !== GCM_TAG_BYTES) throw new CryptoError('MALFORMED', `GCM tag must be ${GCM_TAG_BYTES} bytes`);
  const d = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_BYTES });
  d.setAAD(aad);
  d.setAuthTag(tag);
  const out = d.update(ciphertext);
  try {
    d.final();
  } catch (err) {
    out.fill(0);
    throw new CryptoError('TAMPERED', 'authentication failed: the data, its header or what it is bound to changed', { cause: err });
  }
  return out;
}
