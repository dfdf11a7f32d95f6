import type { IKeyValue } from 'etcd3';
import { KmsError, KmsErrorCode } from '../errors.js';
import type { KeyRecord } from './types.js';

/** One object's value in etcd: JSON, sealed key base64, plus the token of the write that made it. */
interface StoredValue {
  readonly o: string;
  readonly a: string;
  readonly k: string | null;
  /** Random per write: lets a retried write recognise that its first attempt did commit. */
  readonly t: string;
}

/** Largest value we accept back from etcd (etcd's own request limit is 1.5 MiB). */
export const MAX_VALUE_BYTES = 1024 * 1024;

export function encodeValue(owner: string, attributes: string, sealedKey: Buffer | null, token: string): Buffer {
  const v: StoredValue = { o: owner, a: attributes, k: sealedKey === null ? null : sealedKey.toString('base64'), t: token };
  const buf = Buffer.from(JSON.stringify(v), 'utf8');
  if (buf.length > MAX_VALUE_BYTES) {
    throw new KmsError(KmsErrorCode.CONFIG_INVALID, `record is ${buf.length} bytes; the etcd store takes at most ${MAX_VALUE_BYTES}`);
  }
  return buf;
}

export interface DecodedRecord {
  readonly record: KeyRecord;
  readonly token: string;
  readonly createRevision: bigint;
}

function corrupt(id: string, why: string): KmsError {
  return new KmsError(KmsErrorCode.STORE_UNAVAILABLE, `etcd record ${id.slice(0, 128)} is corrupt (${why})`);
}

/** Validates and decodes what etcd returned for one object. */
export function decodeKv(id: string, kv: IKeyValue): DecodedRecord {
  if (kv.value.length > MAX_VALUE_BYTES) throw corrupt(id, 'too large');
  let raw: unknown;
  try {
    raw = JSON.parse(kv.value.toString('utf8'));
  } catch {
    throw corrupt(id, 'not JSON');
  }
  if (typeof raw !== 'object' || raw === null) throw corrupt(id, 'not an object');
  const v = raw as Record<string, unknown>;
  const o = v['o'];
  const a = v['a'];
  const k = v['k'];
  const t = v['t'];
  if (typeof o !== 'string' || typeof a !== 'string' || typeof t !== 'string' || (k !== null && typeof k !== 'string')) {
    throw corrupt(id, 'bad fields');
  }
  const version = Number(kv.version);
  if (!Number.isSafeInteger(version) || version < 1) throw corrupt(id, 'bad version');
  return {
    record: { id, owner: o, version, attributes: a, sealedKey: k === null ? null : Buffer.from(k, 'base64') },
    token: t,
    createRevision: BigInt(kv.create_revision),
  };
}
