import { AttributeName, type Attribute } from '../kmip/attributes.js';
import { KmipError } from '../kmip/errors.js';
import { Tag } from '../kmip/tags.js';
import { decodeTtlv, encodeTtlv, type TtlvItem } from '../kmip/ttlv/index.js';
import type { KeyRecord } from './store/types.js';

/**
 * A managed object as the KMS handles it: its record in the store plus the decoded attributes.
 * Every attribute, including server-managed ones (Unique Identifier, State, dates), lives in
 * `attributes`, in instance order. Each instance keeps its Attribute Index (KMIP 1.4 §2.1.1: it
 * "SHALL NOT change when other instances are added or deleted"); an instance without one (records
 * written before indexes were stored, or just built) takes the next free index of its name.
 */
export interface ManagedObject {
  readonly record: KeyRecord;
  readonly attributes: Attribute[];
}

/** One attribute instance as stored: its name, the hex of its TTLV-encoded value, its Attribute Index. */
export interface StoredAttribute {
  readonly n: string;
  readonly v: string;
  readonly i?: number;
}

/**
 * Largest stored attribute document of one object. Without it one client could store a
 * near-1 MiB custom attribute per object (and per Add Attribute), doubled by the hex form: the
 * SQLite file grows without bound and the etcd store refuses such records as a store failure.
 */
export const MAX_ATTRIBUTES_JSON = 64 * 1024;

/**
 * The stored hex of values decoded from a document (and of the server's constant values): a
 * document written again after a small change (Fresh turning false, a new Last Change Date)
 * encodes only the values that changed. Values are never edited in place (setSingle and the
 * handlers replace them), so an entry stays right for the life of its value object.
 */
const encodedHex = new WeakMap<TtlvItem, string>();

/** `value`'s TTLV encoding in hex, computed once per value object. */
function hexOf(value: TtlvItem): string {
  let hex = encodedHex.get(value);
  if (hex === undefined) {
    hex = encodeTtlv(value).toString('hex');
    encodedHex.set(value, hex);
  }
  return hex;
}

/** A value that never changes (Fresh true, Lease Time…), frozen with its encoding computed once. */
export function constantValue(value: TtlvItem): TtlvItem {
  hexOf(value);
  return Object.freeze(value);
}

/** JSON form kept in the store: attribute name + hex of the TTLV-encoded value. No key bytes. */
export function serializeAttributes(attributes: readonly Attribute[]): string {
  const out: StoredAttribute[] = indexed(attributes).map((a) => ({ n: a.name, v: hexOf(a.value), i: a.index }));
  const json = JSON.stringify(out);
  if (json.length > MAX_ATTRIBUTES_JSON) {
    throw new KmipError('KMIP_INVALID_FIELD', `the object's attributes would exceed ${MAX_ATTRIBUTES_JSON / 1024} KiB`);
  }
  return json;
}

const corrupt = (): KmipError => new KmipError('KMIP_GENERAL_FAILURE', 'stored attributes are corrupt');
const HEX_RE = /^(?:[0-9a-f]{2})*$/;

/** The stored instances of a document, checked for shape (values not decoded: see decodeStored). */
export function readStoredAttributes(json: string): StoredAttribute[] {
  const raw = JSON.parse(json) as unknown;
  if (!Array.isArray(raw)) throw corrupt();
  for (const e of raw as unknown[]) {
    const s = e as Partial<StoredAttribute> | null;
    if (typeof s !== 'object' || s === null || typeof s.n !== 'string' || typeof s.v !== 'string' || !HEX_RE.test(s.v)) throw corrupt();
    if (s.i !== undefined && (typeof s.i !== 'number' || !Number.isSafeInteger(s.i) || s.i < 0)) throw corrupt();
  }
  return raw as StoredAttribute[];
}

/** One stored instance decoded (its hex kept for the next serializeAttributes). */
export function decodeStored(s: StoredAttribute): Attribute {
  const value = decodeTtlv(Buffer.from(s.v, 'hex'));
  encodedHex.set(value, s.v);
  return s.i === undefined ? { name: s.n, value } : { name: s.n, index: s.i, value };
}

export function parseAttributes(json: string): Attribute[] {
  return readStoredAttributes(json).map(decodeStored);
}

export function toManagedObject(record: KeyRecord): ManagedObject {
  return { record, attributes: parseAttributes(record.attributes) };
}

/** Instances of `name`, in index order. */
export function instancesOf(attrs: readonly Attribute[], name: string): Attribute[] {
  return attrs.filter((a) => a.name === name);
}

export function firstValue(attrs: readonly Attribute[], name: string): TtlvItem | undefined {
  return attrs.find((a) => a.name === name)?.value;
}

export function enumValue(attrs: readonly Attribute[], name: string): number | undefined {
  const v = firstValue(attrs, name);
  return v?.type === 'Enumeration' || v?.type === 'Integer' ? v.value : undefined;
}

export function stateOf(attrs: readonly Attribute[]): number {
  const s = enumValue(attrs, AttributeName.State);
  if (s === undefined) throw new KmipError('KMIP_GENERAL_FAILURE', 'object has no State');
  return s;
}

/** Replaces every instance of `name` by one with `value` (appended if absent). */
export function setSingle(attrs: Attribute[], name: string, value: TtlvItem): void {
  const v = value.tag === Tag.AttributeValue ? value : ({ ...value, tag: Tag.AttributeValue } as TtlvItem);
  const i = attrs.findIndex((a) => a.name === name);
  if (i < 0) {
    attrs.push({ name, value: v });
    return;
  }
  attrs[i] = { name, value: v };
  for (let j = attrs.length - 1; j > i; j--) if (attrs[j]?.name === name) attrs.splice(j, 1);
}

/** Every instance with its Attribute Index: its own, or the next free one of its name. */
export function indexed(attrs: readonly Attribute[]): (Attribute & { index: number })[] {
  const next = new Map<string, number>();
  for (const a of attrs) if (a.index !== undefined) next.set(a.name, Math.max(next.get(a.name) ?? 0, a.index + 1));
  return attrs.map((a) => {
    if (a.index !== undefined) return { name: a.name, index: a.index, value: a.value };
    const i = next.get(a.name) ?? 0;
    next.set(a.name, i + 1);
    return { name: a.name, index: i, value: a.value };
  });
}

/** The next index a new instance of `name` gets (one past the highest in use). */
export function nextIndex(attrs: readonly Attribute[], name: string): number {
  return indexed(attrs).reduce((n, a) => (a.name === name ? Math.max(n, a.index + 1) : n), 0);
}

/** Position in `attrs` of the instance of `name` with Attribute Index `index`, or -1. */
export function positionOf(attrs: readonly Attribute[], name: string, index: number): number {
  return indexed(attrs).findIndex((a) => a.name === name && a.index === index);
}

/** Attributes with their Attribute Index (omitted for index 0, as KMIP 1.x allows). */
export function withIndexes(attrs: readonly Attribute[]): Attribute[] {
  return indexed(attrs).map((a) => (a.index === 0 ? { name: a.name, value: a.value } : a));
}

/** Byte equality of two attribute values, ignoring their tags. */
export function sameValue(a: TtlvItem, b: TtlvItem): boolean {
  return encodeTtlv({ ...a, tag: Tag.AttributeValue } as TtlvItem).equals(encodeTtlv({ ...b, tag: Tag.AttributeValue } as TtlvItem));
}

/**
 * The attributes with those implied by stored ones, answered (and located) as if stored:
 * Original Creation Date (KMIP 1.4 §3.43) of an object created or registered here is its Initial Date.
 */
export function withImplied(attrs: readonly Attribute[]): Attribute[] {
  const out = [...attrs];
  const initial = attrs.find((a) => a.name === AttributeName.InitialDate);
  if (initial !== undefined && !attrs.some((a) => a.name === AttributeName.OriginalCreationDate)) {
    out.push({ name: AttributeName.OriginalCreationDate, value: initial.value });
  }
  return out;
}
