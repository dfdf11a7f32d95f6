import type { KeyRecord, KeyRecordChange, KeyStore, NewKeyRecord } from '../store/types.js';
import { LocateIndex, type LocateMatches, type LocateQuery } from './locate-index.js';

/**
 * A store that can tell which of its objects changed since a cursor (the etcd store: a revision).
 * Several KMS nodes write to such a store; the index asks it before every Locate.
 */
export interface ChangeFeed {
  changedIds(cursor: string | undefined): Promise<{ readonly cursor: string; readonly ids: readonly string[] }>;
}

function changeFeedOf(store: KeyStore): ChangeFeed | undefined {
  let s: unknown = store;
  for (let depth = 0; depth < 8 && typeof s === 'object' && s !== null; depth++) {
    if (typeof (s as Partial<ChangeFeed>).changedIds === 'function') return s as ChangeFeed;
    s = (s as { inner?: unknown }).inner;
  }
  return undefined;
}

/**
 * KeyStore decorator that keeps a LocateIndex current: built from `list()` when it is made (the
 * KMS's start; a Locate arriving first waits for it), then every insert and update through this store goes into it; on a shared store (etcd) the
 * other nodes' writes are read back (authenticated, through the wrapped store) before each Locate.
 */
export class IndexedKeyStore implements KeyStore {
  readonly #inner: KeyStore;
  readonly #index = new LocateIndex();
  readonly #feed: ChangeFeed | undefined;
  #built: Promise<void> | undefined;
  #cursor: string | undefined;

  /** Starts building the index at once (the KMS's start), so the first Locate does not wait for it. */
  constructor(inner: KeyStore) {
    this.#inner = inner;
    this.#feed = changeFeedOf(inner);
    this.#ensureBuilt().catch(() => {}); // a failed build is retried by the next Locate
  }

  #ensureBuilt(): Promise<void> {
    this.#built ??= this.#build().catch((err: unknown) => {
      this.#built = undefined;
      throw err;
    });
    return this.#built;
  }

  get kind(): string {
    return this.#inner.kind;
  }

  get inner(): KeyStore {
    return this.#inner;
  }

  /** Objects indexed so far. */
  get indexedCount(): number {
    return this.#index.size;
  }

  newId(): string {
    return this.#inner.newId();
  }

  async insert(record: NewKeyRecord): Promise<KeyRecord> {
    return this.#track(await this.#inner.insert(record));
  }

  get(id: string): Promise<KeyRecord | undefined> {
    return this.#inner.get(id);
  }

  async update(id: string, expectedVersion: number, change: KeyRecordChange): Promise<KeyRecord> {
    return this.#track(await this.#inner.update(id, expectedVersion, change));
  }

  list(filter?: { readonly owner?: string }): Promise<KeyRecord[]> {
    return this.#inner.list(filter);
  }

  readMeta(name: string): Promise<string | undefined> {
    return this.#inner.readMeta(name);
  }

  writeMeta(name: string, value: string): Promise<void> {
    return this.#inner.writeMeta(name, value);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  #track(r: KeyRecord): KeyRecord {
    if (this.#built !== undefined) this.#index.put(r);
    return r;
  }

  /** The objects `q` matches, from the index (built on first use, then brought up to date). */
  async locate(q: LocateQuery): Promise<LocateMatches> {
    await this.#ensureBuilt();
    await this.#catchUp();
    return this.#index.locate(q);
  }

  async #build(): Promise<void> {
    // The cursor is taken before the listing: a write between the two is read again, never lost.
    if (this.#feed !== undefined) this.#cursor = (await this.#feed.changedIds(undefined)).cursor;
    for (const r of await this.#inner.list()) this.#index.put(r);
  }

  async #catchUp(): Promise<void> {
    if (this.#feed === undefined) return;
    const { cursor, ids } = await this.#feed.changedIds(this.#cursor);
    for (const id of ids) {
      const r = await this.#inner.get(id).catch(() => undefined); // a refused record stays out (audited by the integrity layer)
      if (r !== undefined) this.#index.put(r);
    }
    this.#cursor = cursor;
  }
}

/** The store's Locate, if it keeps an index. */
export function indexedLocate(store: KeyStore): ((q: LocateQuery) => Promise<LocateMatches>) | undefined {
  return store instanceof IndexedKeyStore ? (q) => store.locate(q) : undefined;
}
