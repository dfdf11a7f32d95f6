import { CryptoError } from '../crypto/errors.js';
import { gcmDecrypt, GCM_NONCE_BYTES, GCM_TAG_BYTES } from '../crypto/aes-gcm.js';
import { looksSealed, openSealed, seal } from '../crypto/gcm-seal.js';
import { abytes } from '../crypto/guards.js';
import { SealPurpose } from '../crypto/seal-purpose.js';
import { KmsError } from './errors.js';

/** First byte of the pre-2.0 layout: 0x01 | nonce[12] | tag[16] | ciphertext, AAD = object id. */
const LEGACY_V1 = 0x01;

const context = (objectId: string) => ({ purpose: SealPurpose.KMS_KEY_MATERIAL, binding: [objectId] }) as const;

/**
 * Seals key material at rest under the master key: a gcm-seal box, purpose
 * "kms-key-material", bound to the managed object id (a sealed blob moved to another object
 * fails to open). Blobs written before 2.0 (first byte 0x01) still open; a store keeps them
 * until the object is rewritten. Every failure to open is UNSEAL_FAILED.
 */
export class KeySealer {
  /** The sealing key first; older ones (during a master-key rotation) after it, for reading. */
  readonly #keys: Buffer[];

  /** Takes a copy of `masterKey` (32 bytes); call `destroy()` to zero it. */
  constructor(masterKey: Buffer) {
    this.#keys = [copyKey(masterKey)];
  }

  get #key(): Buffer {
    return this.#keys[0]!;
  }

  /** Master-key rotation: seals under `next` from now on, still opens blobs of the keys before. */
  rotateTo(next: Buffer): void {
    this.#keys.unshift(copyKey(next));
  }

  /** Rotation finished: forgets (and zeroes) every key but the current one. */
  retire(): void {
    for (const k of this.#keys.splice(1)) k.fill(0);
  }

  seal(objectId: string, plaintext: Buffer): Buffer {
    return seal(this.#key, plaintext, context(objectId));
  }

  /** The key bytes; the caller zeroes them when done. */
  unseal(objectId: string, sealed: Buffer): Buffer {
    let last: unknown;
    for (const key of this.#keys) {
      try {
        return this.#unsealWith(key, objectId, sealed);
      } catch (err) {
        // During a rotation a blob may be under the older key: try each, report the last failure.
        if (!(err instanceof KmsError) || err.code !== 'UNSEAL_FAILED') throw err;
        last = err;
      }
    }
    throw last;
  }

  #unsealWith(key: Buffer, objectId: string, sealed: Buffer): Buffer {
    try {
      if (looksSealed(sealed)) return openSealed(key, sealed, context(objectId));
      if (sealed.length >= 1 + GCM_NONCE_BYTES + GCM_TAG_BYTES && sealed[0] === LEGACY_V1) {
        const nonce = sealed.subarray(1, 1 + GCM_NONCE_BYTES);
        const tag = sealed.subarray(1 + GCM_NONCE_BYTES, 1 + GCM_NONCE_BYTES + GCM_TAG_BYTES);
        return gcmDecrypt(key, nonce, sealed.subarray(1 + GCM_NONCE_BYTES + GCM_TAG_BYTES), tag, Buffer.from(objectId, 'utf8'));
      }
    } catch (err) {
      if (!(err instanceof CryptoError)) throw err;
      const why = err.code === 'MALFORMED' ? 'has an unknown format' : 'failed authentication';
      throw new KmsError('UNSEAL_FAILED', `sealed key of object ${objectId} ${why}`, { cause: err });
    }
    throw new KmsError('UNSEAL_FAILED', `sealed key of object ${objectId} has an unknown format`);
  }

  destroy(): void {
    for (const k of this.#keys) k.fill(0);
  }
}

function copyKey(masterKey: Buffer): Buffer {
  try {
    abytes(masterKey, 32, 'masterKey');
  } catch (err) {
    throw new KmsError('MASTER_KEY_INVALID', 'master key must be 32 bytes', { cause: err });
  }
  return Buffer.from(masterKey);
}
