import { createHmac } from 'node:crypto';
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

function lengthPrefixed(b: Buffer): Buffer[] {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return [len, b];
}

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
    const version = Buffer.alloc(8);
    version.writeBigUInt64BE(BigInt(f.version));
    const h = createHmac('sha256', key).update(DOMAIN);
    for (const part of [
      ...lengthPrefixed(Buffer.from(f.id, 'utf8')),
      ...lengthPrefixed(Buffer.from(f.owner, 'utf8')),
      version,
      ...lengthPrefixed(Buffer.from(f.attributes, 'utf8')),
      f.sealedKey === null ? Buffer.from([0]) : Buffer.concat([Buffer.from([1]), ...lengthPrefixed(f.sealedKey)]),
    ]) {
      h.update(part);
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
