import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { KmsError } from './errors.js';

const FORMAT_V1 = 0x01;
const NONCE = 12;
const TAG = 16;

/**
 * Seals key material at rest: AES-256-GCM under the master key, AAD = object id (so a sealed
 * blob moved to another object fails to open). Layout: 0x01 | nonce(12) | tag(16) | ciphertext.
 */
export class KeySealer {
  readonly #key: Buffer;

  /** Takes a copy of `masterKey` (32 bytes); call `destroy()` to zero it. */
  constructor(masterKey: Buffer) {
    if (masterKey.length !== 32) throw new KmsError('MASTER_KEY_INVALID', 'master key must be 32 bytes');
    this.#key = Buffer.from(masterKey);
  }

  seal(objectId: string, plaintext: Buffer): Buffer {
    const nonce = randomBytes(NONCE);
    const c = createCipheriv('aes-256-gcm', this.#key, nonce);
    c.setAAD(Buffer.from(objectId, 'utf8'));
    const ct = Buffer.concat([c.update(plaintext), c.final()]);
    return Buffer.concat([Buffer.from([FORMAT_V1]), nonce, c.getAuthTag(), ct]);
  }

  /** The key bytes; the caller zeroes them when done. */
  unseal(objectId: string, sealed: Buffer): Buffer {
    if (sealed.length < 1 + NONCE + TAG || sealed[0] !== FORMAT_V1) {
      throw new KmsError('UNSEAL_FAILED', `sealed key of object ${objectId} has an unknown format`);
    }
    const d = createDecipheriv('aes-256-gcm', this.#key, sealed.subarray(1, 1 + NONCE));
    d.setAAD(Buffer.from(objectId, 'utf8'));
    d.setAuthTag(sealed.subarray(1 + NONCE, 1 + NONCE + TAG));
    try {
      return Buffer.concat([d.update(sealed.subarray(1 + NONCE + TAG)), d.final()]);
    } catch (err) {
      throw new KmsError('UNSEAL_FAILED', `sealed key of object ${objectId} failed authentication`, { cause: err });
    }
  }

  destroy(): void {
    this.#key.fill(0);
  }
}
