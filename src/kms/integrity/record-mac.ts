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
  readonly #key: Buffer;

  constructor(masterKey: Buffer) {
    this.#key = deriveKmsKey(masterKey, KmsKeyLabel.RECORD_MAC);
  }

  mac(f: MacedFields): Buffer {
    const version = Buffer.alloc(8);
    version.writeBigUInt64BE(BigInt(f.version));
    const h = createHmac('sha256', this.#key).update(DOMAIN);
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
    return constantTimeEqual(this.mac(f), tag);
  }

  destroy(): void {
    this.#key.fill(0);
  }
}
