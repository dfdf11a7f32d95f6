import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CryptoError } from './errors.js';
import { abytes, constantTimeEqual } from './guards.js';
import { KEY_CHECK_BYTES, keyCheckValue } from './key-check.js';

/**
 * GCM envelope for small files (.vmx encrypted section, NVRAM, logs):
 *
 *   magic "VMCE" | version 1 | alg 1 (AES-256-GCM) | reserved u16 = 0 | nonce[12] | kcv[16]   (36-byte header)
 *   ciphertext | tag[16]
 *
 * The whole header is authenticated (GCM AAD = header ‖ caller aad). kcv = HMAC-SHA256(key,
 * "vmcrypt-envelope-kcv-v1" ‖ nonce)[0..16] separates WRONG_KEY from TAMPERED.
 */
export const ENVELOPE_MAGIC = Buffer.from('VMCE', 'latin1');
export const ENVELOPE_VERSION = 1;
export const ENVELOPE_ALG_AES256GCM = 1;
const NONCE = 12;
const TAG = 16;
export const ENVELOPE_HEADER_BYTES = 8 + NONCE + KEY_CHECK_BYTES;
const KCV_LABEL = 'vmcrypt-envelope-kcv-v1';

export function sealEnvelope(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  abytes(key, 32, 'key');
  abytes(plaintext, undefined, 'plaintext');
  abytes(aad, undefined, 'aad');
  const nonce = randomBytes(NONCE);
  const header = Buffer.alloc(ENVELOPE_HEADER_BYTES);
  ENVELOPE_MAGIC.copy(header, 0);
  header[4] = ENVELOPE_VERSION;
  header[5] = ENVELOPE_ALG_AES256GCM;
  nonce.copy(header, 8);
  keyCheckValue(key, KCV_LABEL, nonce).copy(header, 8 + NONCE);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(Buffer.concat([header, aad]));
  return Buffer.concat([header, c.update(plaintext), c.final(), c.getAuthTag()]);
}

/** Checks magic, version and algorithm; returns the nonce and key check value. */
export function parseEnvelopeHeader(header: Buffer, what: string): { nonce: Buffer; kcv: Buffer } {
  if (header.length < ENVELOPE_HEADER_BYTES || !header.subarray(0, 4).equals(ENVELOPE_MAGIC)) {
    throw new CryptoError('MALFORMED', `${what}: not a vmcrypt envelope (bad magic or too short)`);
  }
  if (header[4] !== ENVELOPE_VERSION) throw new CryptoError('MALFORMED', `${what}: unsupported version ${header[4]}`);
  if (header[5] !== ENVELOPE_ALG_AES256GCM) throw new CryptoError('MALFORMED', `${what}: unsupported algorithm ${header[5]}`);
  if (header.readUInt16BE(6) !== 0) throw new CryptoError('MALFORMED', `${what}: reserved header bytes are not zero`);
  return { nonce: header.subarray(8, 8 + NONCE), kcv: header.subarray(8 + NONCE, ENVELOPE_HEADER_BYTES) };
}

export function openEnvelope(key: Buffer, envelope: Buffer, aad: Buffer): Buffer {
  abytes(key, 32, 'key');
  abytes(envelope, undefined, 'envelope');
  abytes(aad, undefined, 'aad');
  if (envelope.length < ENVELOPE_HEADER_BYTES + TAG) throw new CryptoError('MALFORMED', 'envelope: too short');
  const header = envelope.subarray(0, ENVELOPE_HEADER_BYTES);
  const { nonce, kcv } = parseEnvelopeHeader(header, 'envelope');
  if (!constantTimeEqual(kcv, keyCheckValue(key, KCV_LABEL, nonce))) {
    throw new CryptoError('WRONG_KEY', 'wrong key: this key did not seal the envelope');
  }
  const d = createDecipheriv('aes-256-gcm', key, nonce);
  d.setAAD(Buffer.concat([header, aad]));
  d.setAuthTag(envelope.subarray(envelope.length - TAG));
  const out = d.update(envelope.subarray(ENVELOPE_HEADER_BYTES, envelope.length - TAG));
  try {
    d.final();
  } catch (err) {
    out.fill(0);
    throw new CryptoError('TAMPERED', 'envelope was modified (authentication failed) or the AAD differs', { cause: err });
  }
  return out;
}
