import { randomBytes } from 'node:crypto';
import { gcmDecrypt, gcmEncrypt, GCM_NONCE_BYTES, GCM_TAG_BYTES } from './aes-gcm.js';
import { CryptoError } from './errors.js';
import { abytes, constantTimeEqual } from './guards.js';
import { KEY_CHECK_BYTES, keyCheckValue } from './key-check.js';
import { encodeSealContext, type SealContext } from './seal-context.js';

/**
 * The one sealing primitive: every AES-256-GCM format of vmcrypt is this box, or a text
 * encoding of it. Versioned 36-byte header, all of it authenticated:
 *
 *   "VMCE" | version u8 | alg u8 = 1 (AES-256-GCM) | reserved u16 = 0 | nonce[12] | kcv[16]
 *   ciphertext | tag[16]
 *
 * version 2 (written): AAD = header ‖ encodeSealContext({purpose, binding}) — the bytes say
 *   what they are and where they belong; kcv = HMAC-SHA256(key, "vmcrypt-seal-kcv-v2" ‖ nonce)[0..16].
 * version 1 (read only, files written before 2.0): AAD = header ‖ the caller's raw bytes;
 *   kcv label "vmcrypt-envelope-kcv-v1". Opened only where the caller passes `legacy.v1Aad`.
 *
 * The kcv tells a wrong key (WRONG_KEY) from modified data (TAMPERED) and makes the box
 * key-committing, which GCM alone is not.
 */
export const SEAL_MAGIC = Buffer.from('VMCE', 'latin1');
export const SEAL_VERSION = 2;
export const SEAL_VERSION_LEGACY = 1;
const ALG_AES256GCM = 1;
export const SEAL_HEADER_BYTES = 8 + GCM_NONCE_BYTES + KEY_CHECK_BYTES;
/** Bytes a box adds to its plaintext. */
export const SEAL_OVERHEAD_BYTES = SEAL_HEADER_BYTES + GCM_TAG_BYTES;
const KCV_LABEL: Readonly<Record<number, string>> = { 1: 'vmcrypt-envelope-kcv-v1', 2: 'vmcrypt-seal-kcv-v2' };

/** Seals `plaintext` under a 32-byte key, bound to `context`. The caller zeroes key and plaintext. */
export function seal(key: Uint8Array, plaintext: Uint8Array, context: SealContext): Buffer {
  abytes(key, 32, 'key');
  abytes(plaintext, undefined, 'plaintext');
  const ctx = encodeSealContext(context);
  const nonce = randomBytes(GCM_NONCE_BYTES);
  const header = Buffer.alloc(SEAL_HEADER_BYTES);
  SEAL_MAGIC.copy(header, 0);
  header[4] = SEAL_VERSION;
  header[5] = ALG_AES256GCM;
  nonce.copy(header, 8);
  keyCheckValue(key, KCV_LABEL[SEAL_VERSION]!, nonce).copy(header, 8 + GCM_NONCE_BYTES);
  const { ciphertext, tag } = gcmEncrypt(key, nonce, plaintext, Buffer.concat([header, ctx]));
  return Buffer.concat([header, ciphertext, tag]);
}

/** True when `bytes` start like a box (magic), whatever the version: lets callers tell it from their own legacy layouts. */
export function looksSealed(bytes: Uint8Array): boolean {
  return bytes.length >= SEAL_MAGIC.length && SEAL_MAGIC.equals(bytes.subarray(0, SEAL_MAGIC.length));
}

/** The header's version byte, after checking magic, algorithm and reserved bytes. */
export function sealVersion(sealed: Uint8Array): number {
  if (sealed.length < SEAL_OVERHEAD_BYTES || !looksSealed(sealed)) {
    throw new CryptoError('MALFORMED', 'sealed data: bad magic or too short');
  }
  const version = sealed[4]!;
  if (version !== SEAL_VERSION && version !== SEAL_VERSION_LEGACY) throw new CryptoError('MALFORMED', `sealed data: unsupported version ${version}`);
  if (sealed[5] !== ALG_AES256GCM) throw new CryptoError('MALFORMED', `sealed data: unsupported algorithm ${sealed[5]}`);
  if (sealed[6] !== 0 || sealed[7] !== 0) throw new CryptoError('MALFORMED', 'sealed data: reserved header bytes are not zero');
  return version;
}

export interface LegacyOpen {
  /** Accept a version-1 box, authenticated with this AAD (what the pre-2.0 code passed). */
  readonly v1Aad: Uint8Array;
}

/**
 * Opens what seal() wrote (or, with `legacy`, a version-1 box). Errors: MALFORMED (not a box,
 * or a version this caller does not accept), WRONG_KEY (another key sealed it), TAMPERED (right
 * key; bytes, header, purpose or binding changed). The caller zeroes the result.
 */
export function openSealed(key: Uint8Array, sealed: Uint8Array, context: SealContext, legacy?: LegacyOpen): Buffer {
  abytes(key, 32, 'key');
  abytes(sealed, undefined, 'sealed');
  const ctx = encodeSealContext(context);
  const version = sealVersion(sealed);
  if (version === SEAL_VERSION_LEGACY && legacy === undefined) {
    throw new CryptoError('MALFORMED', 'sealed data: version 1 is not accepted here');
  }
  const header = sealed.subarray(0, SEAL_HEADER_BYTES);
  const nonce = header.subarray(8, 8 + GCM_NONCE_BYTES);
  if (!constantTimeEqual(header.subarray(8 + GCM_NONCE_BYTES), keyCheckValue(key, KCV_LABEL[version]!, nonce))) {
    throw new CryptoError('WRONG_KEY', 'wrong key: this key did not seal the data');
  }
  const aad = Buffer.concat([header, version === SEAL_VERSION_LEGACY ? abytes(legacy!.v1Aad, undefined, 'v1Aad') : ctx]);
  const end = sealed.length - GCM_TAG_BYTES;
  return gcmDecrypt(key, nonce, sealed.subarray(SEAL_HEADER_BYTES, end), sealed.subarray(end), aad);
}
