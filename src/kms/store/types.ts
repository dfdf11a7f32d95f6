/**
 * The storage contract of the key server. Every KMS node of a key provider may share one
 * backend (SQLite for one node; etcd for a cluster), so:
 *  - every write resolves only once it is durable (fsync'd / committed by a quorum);
 *  - updates are compare-and-set on `version` (optimistic concurrency, no locks held);
 *  - ids never collide across nodes: `newId()` returns a random UUID and `insert` refuses
 *    an id that exists (STORE_ID_EXISTS), so a node just draws again.
 *
 * The store never sees key bytes in clear: `sealedKey` is AES-256-GCM sealed by the KMS
 * (src/kms/key-material-seal.ts) before it reaches the store. `attributes` is an opaque, non-secret
 * JSON document owned by the KMS; stores keep it verbatim.
 * Errors: KmsError with STORE_ID_EXISTS, STORE_CONFLICT, STORE_NOT_FOUND, STORE_UNAVAILABLE.
 */
export interface KeyRecord {
  /** Unique Identifier of the managed object (KMIP). */
  readonly id: string;
  /** Identity that created the object (client certificate CN or pinned fingerprint). */
  readonly owner: string;
  /** 1 after insert, +1 on each successful update. */
  readonly version: number;
  /** Non-secret attributes, JSON text written by the KMS; opaque to the store. */
  readonly attributes: string;
  /** Sealed key material; null when there is none (destroyed object). */
  readonly sealedKey: Buffer | null;
}

export interface NewKeyRecord {
  readonly id: string;
  readonly owner: string;
  readonly attributes: string;
  readonly sealedKey: Buffer | null;
}

export interface KeyRecordChange {
  readonly attributes: string;
  readonly sealedKey: Buffer | null;
}

export interface KeyStore {
  /** 'sqlite' or 'etcd', for logs and `kms serve` output. */
  readonly kind: string;
  /** A fresh id (random UUID); unique across nodes sharing the backend once `insert` succeeds. */
  newId(): string;
  /** Durably stores a new record with version 1. Rejects STORE_ID_EXISTS if the id is taken. */
  insert(record: NewKeyRecord): Promise<KeyRecord>;
  /** The record, or undefined. Reads see every write that resolved before the read began. */
  get(id: string): Promise<KeyRecord | undefined>;
  /**
   * Replaces attributes and sealedKey if the stored version is still `expectedVersion`, durably.
   * Resolves to the new record (version + 1). Rejects STORE_CONFLICT or STORE_NOT_FOUND.
   */
  update(id: string, expectedVersion: number, change: KeyRecordChange): Promise<KeyRecord>;
  /** Every record, optionally only those of `owner`, in insertion order. */
  list(filter?: { readonly owner?: string }): Promise<KeyRecord[]>;
  /**
   * A small named value of the store itself (not a managed object): format markers such as
   * "record-integrity". Names match /^[a-z0-9-]{1,64}$/; values are at most 4 KiB of text.
   */
  readMeta(name: string): Promise<string | undefined>;
  /** Durably sets a meta value (overwrites). */
  writeMeta(name: string, value: string): Promise<void>;
  /** Finishes pending writes and releases the backend. */
  close(): Promise<void>;
}

const META_NAME_RE = /^[a-z0-9-]{1,64}$/;
export const MAX_META_VALUE = 4096;

/** Guards meta names and values (both stores). */
export function checkMeta(name: string, value?: string): void {
  if (!META_NAME_RE.test(name)) throw new TypeError(`meta name must match ${META_NAME_RE.source}`);
  if (value !== undefined && value.length > MAX_META_VALUE) throw new TypeError(`meta value longer than ${MAX_META_VALUE}`);
}
