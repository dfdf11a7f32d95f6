import { randomBytes, randomUUID } from 'node:crypto';
import type { Etcd3, IKeyValue, IResponseOp } from 'etcd3';
import { KmsError, KmsErrorCode } from '../errors.js';
import { checkMeta, type KeyRecord, type KeyRecordChange, type KeyStore, type NewKeyRecord } from './types.js';
import { createEtcdClient, type EtcdTlsOptions } from './etcd-client.js';
import { decodeKv, encodeValue } from './etcd-record.js';
import { retryEtcd, type EtcdRetryBudget } from './etcd-retry.js';

export interface EtcdKeyStoreOptions {
  /** Client URLs of the etcd members, e.g. http://127.0.0.1:2379. */
  readonly endpoints: readonly string[];
  /** Key prefix of this KMS cluster in etcd (several clusters may share one etcd). Default "vmcrypt/kms/". */
  readonly prefix?: string;
  /**
   * Longest time one store operation may take, retries included, before STORE_UNAVAILABLE.
   * Default 8 s: long enough to ride out a leader election, short beside a KMIP client's
   * hung-service timeout (60 s in vSphere).
   */
  readonly opTimeoutMs?: number;
  /**
   * Deadline of one RPC attempt. Default 1.5 s: a proposal forwarded to a leader that just died
   * would otherwise hang for etcd's request timeout (~7 s) before failing.
   */
  readonly attemptTimeoutMs?: number;
  /**
   * A non-secret identifier of the master key (e.g. HMAC(masterKey, "key-id")). The first node
   * records it in etcd; a node with another master key is refused at open (CONFIG_INVALID),
   * instead of writing keys that its peers could never unseal.
   */
  readonly masterKeyId?: string;
  /** TLS to the etcd members (see EtcdTlsOptions); https:// endpoints need it. */
  readonly tls?: EtcdTlsOptions;
}

const DEFAULT_PREFIX = 'vmcrypt/kms/';
const LIST_PAGE = 500;
const MAX_ID = 256;
const OWNER_CACHE = 10_000;

function endpointsOf(list: readonly string[]): string[] {
  if (list.length === 0 || list.length > 16) {
    throw new KmsError(KmsErrorCode.CONFIG_INVALID, 'etcd endpoints: give 1 to 16 URLs (http://host:port)');
  }
  for (const e of list) {
    if (!/^https?:\/\/[A-Za-z0-9.\-[\]:]+:\d{1,5}$/.test(e)) {
      throw new KmsError(KmsErrorCode.CONFIG_INVALID, `etcd endpoint '${e.slice(0, 200)}' is not http(s)://host:port`);
    }
  }
  return [...list];
}

/** Parses the `--etcd` flag value: comma-separated URLs. */
export function parseEtcdEndpoints(flag: string): string[] {
  return endpointsOf(flag.split(',').map((s) => s.trim()).filter((s) => s.length > 0));
}

function checkId(id: string): void {
  // eslint-disable-next-line no-control-regex
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID || /[\u0000-\u001f]/.test(id)) {
    throw new KmsError(KmsErrorCode.STORE_NOT_FOUND, 'invalid object id');
  }
}

/**
 * KeyStore over an etcd 3 cluster (the KMS cluster's shared, replicated state).
 *
 * - Reads are linearizable (etcd's default range), so a key created on one KMS node is read
 *   on every other one right after.
 * - insert = txn "create_revision == 0 → put"; update = txn "version == expected → put". The
 *   record version IS etcd's per-key version (1 on create, +1 per put).
 * - Every write carries a random token; when a retried write finds its own token, the first
 *   attempt had committed and the write succeeds instead of reporting a false conflict.
 * - Failures of the cluster (quorum lost, all members down) are retried until opTimeoutMs,
 *   then reported as STORE_UNAVAILABLE naming the endpoints. Nothing is cached: when the
 *   members return, the next operation just works.
 */
export class EtcdKeyStore implements KeyStore {
  readonly kind = 'etcd';
  readonly endpoints: readonly string[];
  private readonly client: Etcd3;
  private readonly prefix: string;
  private readonly budget: EtcdRetryBudget;
  private closed = false;
  /**
   * Owners by id, learnt from reads and writes. Safe to cache: a record's owner never changes
   * and records are never deleted (a destroyed key keeps its record without material).
   */
  private readonly owners = new Map<string, string>();

  constructor(opts: EtcdKeyStoreOptions) {
    this.endpoints = endpointsOf(opts.endpoints);
    this.prefix = opts.prefix ?? DEFAULT_PREFIX;
    this.budget = {
      endpoints: this.endpoints,
      opTimeoutMs: opts.opTimeoutMs ?? 8000,
      attemptTimeoutMs: opts.attemptTimeoutMs ?? 1500,
      closed: () => this.closed,
    };
    this.client = createEtcdClient(this.endpoints, opts.tls, this.budget.attemptTimeoutMs);
  }

  newId(): string {
    return randomUUID();
  }

  private objKey(id: string): Buffer {
    return Buffer.from(`${this.prefix}obj/${id}`, 'utf8');
  }

  async insert(record: NewKeyRecord): Promise<KeyRecord> {
    checkId(record.id);
    const key = this.objKey(record.id);
    const token = randomBytes(16).toString('hex');
    const value = encodeValue(record.owner, record.attributes, record.sealedKey, token);
    return this.retry('insert', async (deadline) => {
      const { created, kv } = await this.putIfAbsent(key, value, deadline);
      if (created) {
        this.rememberOwner(record.id, record.owner);
        return { id: record.id, owner: record.owner, version: 1, attributes: record.attributes, sealedKey: record.sealedKey };
      }
      if (kv !== undefined) {
        const existing = decodeKv(record.id, kv);
        if (existing.token === token) return existing.record; // our earlier attempt committed
      }
      throw new KmsError(KmsErrorCode.STORE_ID_EXISTS, `object id ${record.id.slice(0, MAX_ID)} already exists`);
    });
  }

  async get(id: string): Promise<KeyRecord | undefined> {
    checkId(id);
    const key = this.objKey(id);
    return this.retry('get', async (deadline) => {
      const res = await this.client.kv.range({ key }, { deadline });
      const kv = res.kvs[0];
      if (kv === undefined) return undefined;
      const { record } = decodeKv(id, kv);
      this.rememberOwner(id, record.owner);
      return record;
    });
  }

  async update(id: string, expectedVersion: number, change: KeyRecordChange): Promise<KeyRecord> {
    checkId(id);
    const key = this.objKey(id);
    const token = randomBytes(16).toString('hex');
    return this.retry('update', async (deadline) => {
      let owner = this.owners.get(id);
      if (owner === undefined) {
        // Unknown here yet: read first (linearizable) for the owner, which never changes, and to
        // report NOT_FOUND / CONFLICT early. Usually the KMS has just read the record (cache hit),
        // and the update is one round trip.
        const current = await this.client.kv.range({ key }, { deadline });
        const kv = current.kvs[0];
        if (kv === undefined) throw new KmsError(KmsErrorCode.STORE_NOT_FOUND, `object ${id.slice(0, MAX_ID)} not found`);
        const before = decodeKv(id, kv);
        this.rememberOwner(id, before.record.owner);
        if (before.token === token) return before.record; // our earlier attempt committed
        if (before.record.version !== expectedVersion) {
          throw new KmsError(KmsErrorCode.STORE_CONFLICT, `object ${id.slice(0, MAX_ID)} changed (version ${before.record.version}, expected ${expectedVersion})`);
        }
        owner = before.record.owner;
      }
      const value = encodeValue(owner, change.attributes, change.sealedKey, token);
      const res = await this.client.kv.txn(
        {
          compare: [{ key, target: 'Version', result: 'Equal', version: expectedVersion }],
          success: [{ request_put: { key, value } }],
          failure: [{ request_range: { key } }],
        },
        { deadline },
      );
      if (res.succeeded) {
        return { id, owner, version: expectedVersion + 1, attributes: change.attributes, sealedKey: change.sealedKey };
      }
      const after = firstKv(res.responses);
      if (after === undefined) throw new KmsError(KmsErrorCode.STORE_NOT_FOUND, `object ${id.slice(0, MAX_ID)} not found`);
      const now = decodeKv(id, after);
      if (now.token === token) return now.record; // our earlier attempt committed
      throw new KmsError(KmsErrorCode.STORE_CONFLICT, `object ${id.slice(0, MAX_ID)} changed (version ${now.record.version}, expected ${expectedVersion})`);
    });
  }

  private rememberOwner(id: string, owner: string): void {
    if (this.owners.has(id)) return;
    if (this.owners.size >= OWNER_CACHE) {
      const oldest = this.owners.keys().next();
      if (oldest.done !== true) this.owners.delete(oldest.value);
    }
    this.owners.set(id, owner);
  }

  async list(filter?: { readonly owner?: string }): Promise<KeyRecord[]> {
    const start = Buffer.from(`${this.prefix}obj/`, 'utf8');
    const end = Buffer.from(`${this.prefix}obj0`, 'utf8'); // '0' follows '/': the prefix range end
    const prefixLen = start.length;
    return this.retry('list', async (deadline) => {
      const all: { rec: KeyRecord; rev: bigint }[] = [];
      let from = start;
      let revision: string | undefined;
      for (;;) {
        const res = await this.client.kv.range(
          { key: from, range_end: end, limit: LIST_PAGE, sort_target: 'Key', sort_order: 'Ascend', ...(revision === undefined ? {} : { revision }) },
          { deadline },
        );
        // Every page at the first page's revision: one consistent snapshot.
        revision ??= res.header.revision;
        for (const kv of res.kvs) {
          const id = kv.key.subarray(prefixLen).toString('utf8');
          const d = decodeKv(id, kv);
          if (filter?.owner === undefined || d.record.owner === filter.owner) all.push({ rec: d.record, rev: d.createRevision });
        }
        const last = res.kvs[res.kvs.length - 1];
        if (!res.more || last === undefined) break;
        from = Buffer.concat([last.key, Buffer.from([0])]);
      }
      return all.sort((a, b) => (a.rev < b.rev ? -1 : a.rev > b.rev ? 1 : 0)).map((x) => x.rec);
    });
  }

  /**
   * The ids of the objects written after etcd revision `cursor` (none when undefined) and the
   * current revision as the next cursor: the feed that keeps each node's Locate index current
   * with the other nodes' writes (locate-index/indexed-store.ts). Keys only, at one revision.
   */
  async changedIds(cursor: string | undefined): Promise<{ cursor: string; ids: string[] }> {
    const start = Buffer.from(`${this.prefix}obj/`, 'utf8');
    const end = Buffer.from(`${this.prefix}obj0`, 'utf8');
    return this.retry('changes', async (deadline) => {
      if (cursor === undefined) return { cursor: (await this.client.kv.range({ key: start, range_end: end, count_only: true }, { deadline })).header.revision, ids: [] };
      const ids: string[] = [];
      let from = start;
      let revision: string | undefined;
      for (;;) {
        const page = { key: from, range_end: end, keys_only: true, min_mod_revision: (BigInt(cursor) + 1n).toString(), limit: LIST_PAGE };
        const res = await this.client.kv.range({ ...page, ...(revision === undefined ? {} : { revision }) }, { deadline });
        revision ??= res.header.revision;
        for (const kv of res.kvs) ids.push(kv.key.subarray(start.length).toString('utf8'));
        const last = res.kvs[res.kvs.length - 1];
        if (!res.more || last === undefined) break;
        from = Buffer.concat([last.key, Buffer.from([0])]);
      }
      return { cursor: revision, ids };
    });
  }

  async readMeta(name: string): Promise<string | undefined> {
    checkMeta(name);
    const key = Buffer.from(`${this.prefix}meta/${name}`, 'utf8');
    return this.retry('read meta', async (deadline) => {
      const res = await this.client.kv.range({ key }, { deadline });
      const kv = res.kvs[0];
      return kv === undefined ? undefined : kv.value.subarray(0, 4096).toString('utf8');
    });
  }

  async writeMeta(name: string, value: string): Promise<void> {
    checkMeta(name, value);
    const key = Buffer.from(`${this.prefix}meta/${name}`, 'utf8');
    const v = Buffer.from(value, 'utf8');
    await this.retry('write meta', async (deadline) => {
      await this.client.kv.put({ key, value: v }, { deadline });
    });
  }

  /** Records (or checks) the master key id of this KMS cluster; see EtcdKeyStoreOptions.masterKeyId. */
  async checkMasterKeyId(masterKeyId: string): Promise<void> {
    const key = Buffer.from(`${this.prefix}meta/master-key-id`, 'utf8');
    const value = Buffer.from(masterKeyId, 'utf8');
    await this.retry('check master key id', async (deadline) => {
      const { created, kv } = await this.putIfAbsent(key, value, deadline);
      if (created) return;
      if (kv !== undefined && !kv.value.equals(value)) {
        throw new KmsError(
          KmsErrorCode.CONFIG_INVALID,
          'this node\'s master key differs from the one the KMS cluster in etcd was created with; every node of a cluster must share one master key',
        );
      }
    });
  }

  /** One txn: put `value` if `key` was never created; otherwise return what is there. */
  private async putIfAbsent(key: Buffer, value: Buffer, deadline: Date): Promise<{ created: boolean; kv: IKeyValue | undefined }> {
    const res = await this.client.kv.txn(
      {
        compare: [{ key, target: 'Create', result: 'Equal', create_revision: 0 }],
        success: [{ request_put: { key, value } }],
        failure: [{ request_range: { key } }],
      },
      { deadline },
    );
    return res.succeeded ? { created: true, kv: undefined } : { created: false, kv: firstKv(res.responses) };
  }

  /** One linearizable read: resolves when a quorum answers, else STORE_UNAVAILABLE. */
  async ping(): Promise<void> {
    const key = Buffer.from(`${this.prefix}meta/`, 'utf8');
    await this.retry('ping', async (deadline) => {
      await this.client.kv.range({ key, count_only: true }, { deadline });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.close();
  }

  private retry<T>(what: string, attempt: (deadline: Date) => Promise<T>): Promise<T> {
    return retryEtcd(what, this.budget, attempt);
  }
}

function firstKv(responses: readonly IResponseOp[]): IKeyValue | undefined {
  return responses[0]?.response_range?.kvs[0];
}

/** Opens the store and checks that a quorum answers (and the master key id, when given). */
export async function openEtcdKeyStore(opts: EtcdKeyStoreOptions): Promise<EtcdKeyStore> {
  const store = new EtcdKeyStore(opts);
  try {
    await store.ping();
    if (opts.masterKeyId !== undefined) await store.checkMasterKeyId(opts.masterKeyId);
    return store;
  } catch (e) {
    await store.close();
    throw e;
  }
}
