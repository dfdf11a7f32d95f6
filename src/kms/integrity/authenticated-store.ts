import { KmsError } from '../errors.js';
import type { KeyRecord, KeyRecordChange, KeyStore, NewKeyRecord } from '../store/types.js';
import { decodeEnvelope, encodeEnvelope, isLegacyAttributes } from './record-envelope.js';
import type { RecordMac } from './record-mac.js';

/** Meta entry saying every record of the store carries a MAC (set once, after the migration). */
export const INTEGRITY_META = 'record-integrity';
const INTEGRITY_VERSION = 'hmac-sha256-v1';

export interface IntegrityFailure {
  readonly id: string;
  readonly code: 'RECORD_TAMPERED' | 'RECORD_ROLLED_BACK';
  readonly message: string;
}

export interface AuthenticatedStoreOptions {
  /** Told about every record refused (for the audit log). */
  readonly onFailure?: (f: IntegrityFailure) => void;
}

export interface OpenReport {
  readonly verified: number;
  readonly migrated: number;
  readonly refused: number;
}

/**
 * A KeyStore decorator that authenticates whole records (id, owner, version, attributes —
 * grants and state included —, sealed key) with an HMAC under a key derived from the master
 * key, whatever the backend. Refuses:
 *  - an edited field, a record moved to another id, a record without tag → RECORD_TAMPERED;
 *  - an older record put back: in etcd a put always raises the per-key version, so the old tag
 *    (bound to the old version) fails; in either store a record whose version is lower than one
 *    this server has seen (all records are read at open) → RECORD_ROLLED_BACK;
 *  - a record that this server has seen and that has disappeared → RECORD_TAMPERED.
 * `list()` skips refused records (each reported), so one bad record does not stop Locate.
 */
export class AuthenticatedKeyStore implements KeyStore {
  readonly #inner: KeyStore;
  readonly #mac: RecordMac;
  readonly #onFailure: (f: IntegrityFailure) => void;
  /** Highest version seen per id (the replay line below which a record is refused) and its authenticated owner. */
  readonly #seen = new Map<string, { version: number; owner: string }>();

  constructor(inner: KeyStore, mac: RecordMac, opts: AuthenticatedStoreOptions = {}) {
    this.#inner = inner;
    this.#mac = mac;
    this.#onFailure = opts.onFailure ?? (() => {});
  }

  get kind(): string {
    return this.#inner.kind;
  }

  get inner(): KeyStore {
    return this.#inner;
  }

  newId(): string {
    return this.#inner.newId();
  }

  #wrap(id: string, owner: string, version: number, attributes: string, sealedKey: Buffer | null): string {
    return encodeEnvelope(attributes, this.#mac.mac({ id, owner, version, attributes, sealedKey }));
  }

  #fail(id: string, err: KmsError): never {
    this.#onFailure({ id, code: err.code as IntegrityFailure['code'], message: err.message });
    throw err;
  }

  /** Verifies a record as the inner store returned it, and returns it with the bare attributes. */
  #open(raw: KeyRecord): KeyRecord {
    const seen = this.#seen.get(raw.id)?.version;
    if (seen !== undefined && raw.version < seen) {
      this.#fail(raw.id, new KmsError('RECORD_ROLLED_BACK', `record ${raw.id} is at version ${raw.version}, but version ${seen} was already seen: an older copy was put back`));
    }
    let attributes: string;
    try {
      const env = decodeEnvelope(raw.id, raw.attributes);
      if (!this.#mac.verify({ ...raw, attributes: env.attributes }, env.mac)) {
        throw new KmsError('RECORD_TAMPERED', `record ${raw.id} failed its integrity check (owner, grants, state, attributes, version or key material changed outside the KMS)`);
      }
      attributes = env.attributes;
    } catch (err) {
      if (err instanceof KmsError) this.#fail(raw.id, err);
      throw err;
    }
    if (seen === undefined || raw.version > seen) this.#seen.set(raw.id, { version: raw.version, owner: raw.owner });
    return { ...raw, attributes };
  }

  async insert(record: NewKeyRecord): Promise<KeyRecord> {
    const wrapped = this.#wrap(record.id, record.owner, 1, record.attributes, record.sealedKey);
    const stored = await this.#inner.insert({ ...record, attributes: wrapped });
    return this.#ownWrite(stored, { ...record, version: 1, attributes: wrapped }, record.attributes);
  }

  /**
   * The record a write of ours resolved to. When the store answers with exactly what we wrote
   * (the usual case), its tag is the one we just computed: no second MAC, no envelope parse.
   * Anything else (an earlier attempt's record, another shape) is verified like a read.
   */
  #ownWrite(stored: KeyRecord, written: KeyRecord, bare: string): KeyRecord {
    const same =
      stored.id === written.id &&
      stored.owner === written.owner &&
      stored.version === written.version &&
      stored.attributes === written.attributes &&
      (stored.sealedKey === written.sealedKey || (stored.sealedKey !== null && written.sealedKey !== null && stored.sealedKey.equals(written.sealedKey)));
    if (!same) return this.#open(stored);
    const seen = this.#seen.get(stored.id)?.version;
    if (seen === undefined || stored.version > seen) this.#seen.set(stored.id, { version: stored.version, owner: stored.owner });
    return { ...stored, attributes: bare };
  }

  async get(id: string): Promise<KeyRecord | undefined> {
    const raw = await this.#inner.get(id);
    if (raw === undefined) {
      if (this.#seen.has(id)) this.#fail(id, new KmsError('RECORD_TAMPERED', `record ${id} was removed from the store outside the KMS`));
      return undefined;
    }
    return this.#open(raw);
  }

  async update(id: string, expectedVersion: number, change: KeyRecordChange): Promise<KeyRecord> {
    // The owner never changes and is covered by the tag: take it from an authenticated read.
    let owner = this.#seen.get(id)?.owner;
    if (owner === undefined) {
      const current = await this.get(id);
      if (current === undefined) throw new KmsError('STORE_NOT_FOUND', `no object ${id}`);
      owner = current.owner;
    }
    const attributes = this.#wrap(id, owner, expectedVersion + 1, change.attributes, change.sealedKey);
    const stored = await this.#inner.update(id, expectedVersion, { attributes, sealedKey: change.sealedKey });
    return this.#ownWrite(stored, { id, owner, version: expectedVersion + 1, attributes, sealedKey: change.sealedKey }, change.attributes);
  }

  async list(filter?: { readonly owner?: string }): Promise<KeyRecord[]> {
    const out: KeyRecord[] = [];
    for (const raw of await this.#inner.list(filter)) {
      try {
        out.push(this.#open(raw));
      } catch (err) {
        if (!(err instanceof KmsError)) throw err;
      }
    }
    return out;
  }

  readMeta(name: string): Promise<string | undefined> {
    return this.#inner.readMeta(name);
  }

  writeMeta(name: string, value: string): Promise<void> {
    return this.#inner.writeMeta(name, value);
  }

  async close(): Promise<void> {
    try {
      await this.#inner.close();
    } finally {
      this.#mac.destroy();
    }
  }

  /**
   * Reads every record once (verifying it and learning its version) and, on a store written
   * before record integrity existed, gives each untagged record its tag. Untagged records are
   * adopted only until the store's marker says the migration finished ("migrating" is written
   * first, so a crash half-way resumes); after that an untagged record is an edit.
   */
  async openCheck(): Promise<OpenReport> {
    const marker = await this.#inner.readMeta(INTEGRITY_META);
    const adopting = marker !== INTEGRITY_VERSION;
    if (adopting) await this.#inner.writeMeta(INTEGRITY_META, 'migrating');
    const all = await this.#inner.list();
    let verified = 0;
    let migrated = 0;
    let refused = 0;
    for (const raw of all) {
      if (adopting && isLegacyAttributes(raw.attributes)) {
        if (await this.#adopt(raw)) migrated++;
        else verified++;
        continue;
      }
      try {
        this.#open(raw);
        verified++;
      } catch (err) {
        if (!(err instanceof KmsError)) throw err;
        refused++;
      }
    }
    if (adopting) await this.#inner.writeMeta(INTEGRITY_META, INTEGRITY_VERSION);
    return { verified, migrated, refused };
  }

  /** Tags one legacy record (compare-and-set; another node may have done it first). */
  async #adopt(raw: KeyRecord): Promise<boolean> {
    const attributes = this.#wrap(raw.id, raw.owner, raw.version + 1, raw.attributes, raw.sealedKey);
    try {
      this.#open(await this.#inner.update(raw.id, raw.version, { attributes, sealedKey: raw.sealedKey }));
      return true;
    } catch (err) {
      if (!(err instanceof KmsError) || err.code !== 'STORE_CONFLICT') throw err;
      const now = await this.#inner.get(raw.id);
      if (now !== undefined) this.#open(now);
      return false;
    }
  }
}

/** Wraps `inner`, verifies (and if needed migrates) every record; see AuthenticatedKeyStore. */
export async function openAuthenticatedStore(
  inner: KeyStore,
  mac: RecordMac,
  opts: AuthenticatedStoreOptions = {},
): Promise<{ store: AuthenticatedKeyStore; report: OpenReport }> {
  const store = new AuthenticatedKeyStore(inner, mac, opts);
  const report = await store.openCheck();
  return { store, report };
}
