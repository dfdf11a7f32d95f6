import { createHmac, type Hmac } from 'node:crypto';
import { constantTimeEqual } from '../../crypto/guards.js';
import { deriveKmsKey, KmsKeyLabel } from '../derived-keys.js';

/** The fields of a stored record the MAC covers: all of them. */
export interface MacedFields {
  readonly id: string;
  readonly owner: string;
  /** The store's version of the record after the write (1 on insert, +1 per update). */
  readonly version: number;
  readonly attributes: string;
  readonly sealedKey: Buffer | null;
}

const DOMAIN = Buffer.from('vmcrypt-kms-record-v1\0', 'latin1');

/** Feeds `len(b) ‖ b` (4-byte big-endian length) of a UTF-8 string or bytes, without copying a string into a Buffer. */
function updatePrefixed(h: Hmac, b: string | Buffer): void {
  const len = Buffer.allocUnsafe(4);
  len.writeUInt32BE(typeof b === 'string' ? Buffer.byteLength(b, 'utf8') : b.length);
  h.update(len);
  if (typeof b === 'string') h.update(b, 'utf8');
  else h.update(b);
}

const NO_KEY = Buffer.from([0]);
const HAS_KEY = Buffer.from([1]);

/**
 * HMAC-SHA-256 over every field of a record under a key derived from the master key.
 * The encoding is unambiguous (length prefixes, a presence byte for the sealed key), and the
 * version binds the MAC to one revision: a record put back from history (etcd) or from an older
 * copy of a row carries the MAC of another version and fails.
 */
export class RecordMac {
  /** The tagging key first; older ones (during a master-key rotation) after it, for verifying. */
  readonly #keys: Buffer[];

  constructor(masterKey: Buffer) {
    this.#keys = [deriveKmsKey(masterKey, KmsKeyLabel.RECORD_MAC)];
  }

  /** Master-key rotation: tags under `next` from now on, still verifies tags of the keys before. */
  rotateTo(next: Buffer): void {
    this.#keys.unshift(deriveKmsKey(next, KmsKeyLabel.RECORD_MAC));
  }

  retire(): void {
    for (const k of this.#keys.splice(1)) k.fill(0);
  }

  mac(f: MacedFields): Buffer {
    return this.#macWith(this.#keys[0]!, f);
  }

  #macWith(key: Buffer, f: MacedFields): Buffer {
    const version = Buffer.allocUnsafe(8);
    version.writeBigUInt64BE(BigInt(f.version));
    const h = createHmac('sha256', key).update(DOMAIN);
    updatePrefixed(h, f.id);
    updatePrefixed(h, f.owner);
    h.update(version);
    updatePrefixed(h, f.attributes);
    if (f.sealedKey === null) {
      h.update(NO_KEY);
    } else {
      h.update(HAS_KEY);
      updatePrefixed(h, f.sealedKey);
    }
    return h.digest();
  }

  verify(f: MacedFields, tag: Buffer): boolean {
    return this.#keys.some((k) => constantTimeEqual(this.#macWith(k, f), tag));
  }

  destroy(): void {
    for (const k of this.#keys) k.fill(0);
  }
}
