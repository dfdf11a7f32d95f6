import { AttributeName, nameValueOf, type Attribute } from '../../kmip/attributes.js';
import { State } from '../../kmip/enums.js';
import { Tag } from '../../kmip/tags.js';
import { encodeTtlv, type TtlvItem } from '../../kmip/ttlv/index.js';
import { decodeStored, enumValue, readStoredAttributes, withImplied } from '../managed-object.js';
import { GRANT_ATTRIBUTE } from '../object-access.js';
import type { KeyRecord } from '../store/types.js';

/**
 * What the Locate index keeps of one object: no key material, no attribute documents — only the
 * lookup keys of its attributes, its dates and its usage mask. Built from the record the store
 * returned (already authenticated by the integrity layer).
 */
export interface IndexEntry {
  readonly id: string;
  readonly owner: string;
  /** The record's store version: an older read never replaces a newer one. */
  readonly version: number;
  /** Insertion order across the index (Locate answers newest first). */
  readonly seq: number;
  readonly grantees: readonly string[];
  readonly destroyed: boolean;
  /** `name \0 canonical value`, one per attribute instance but DateTimes and the Unique Identifier. */
  readonly keys: readonly string[];
  /** DateTime attributes by name (every instance), for ranges. */
  readonly dates: ReadonlyMap<string, readonly bigint[]>;
  readonly usageMask: number | undefined;
}

/** The canonical form an attribute value is looked up by: Name by its text, anything else by its encoding. */
export function lookupKey(a: Attribute): string {
  if (a.name === AttributeName.Name) {
    try {
      return `${a.name}\0n:${nameValueOf(a)}`;
    } catch {
      // a Name without text matches nothing textual: fall through to its encoding
    }
  }
  return `${a.name}\0${encodeTtlv({ ...a.value, tag: Tag.AttributeValue } as TtlvItem).toString('hex')}`;
}

const VALUE_TAG_HEX = Tag.AttributeValue.toString(16).padStart(6, '0');
const DATE_TIME_HEX = '09';
/** Attributes the entry needs decoded (beside DateTimes): the rest are keyed by their stored encoding. */
const DECODED = new Set<string>([AttributeName.Name, AttributeName.State, AttributeName.CryptographicUsageMask, AttributeName.InitialDate, GRANT_ATTRIBUTE]);

/**
 * The stored instances as the index needs them: most are keyed by their stored hex as is (the
 * same text lookupKey gives: the encoding under the Attribute Value tag); only DateTimes, Names,
 * State, the usage mask and grants are decoded.
 */
function attributesForIndex(json: string): { readonly decoded: Attribute[]; readonly keys: string[] } {
  const decoded: Attribute[] = [];
  const keys: string[] = [];
  for (const s of readStoredAttributes(json)) {
    if (s.n === AttributeName.UniqueIdentifier) continue; // the entry's own key: not posted
    const tagged = s.v.startsWith(VALUE_TAG_HEX);
    if (tagged && s.v.slice(6, 8) !== DATE_TIME_HEX && !DECODED.has(s.n)) {
      keys.push(`${s.n}\0${s.v}`);
      continue;
    }
    const a = decodeStored(s);
    decoded.push(a);
    // Dates are nearly unique per object: kept in `dates` only (a posting set per date would cost
    // more memory than it saves), matched there by range or equality.
    if (a.value.type !== 'DateTime') keys.push(lookupKey(a));
  }
  return { decoded, keys };
}

export function entryOf(record: KeyRecord, seq: number): IndexEntry {
  const { decoded, keys } = attributesForIndex(record.attributes);
  const attrs = withImplied(decoded);
  const dates = new Map<string, bigint[]>();
  const grantees: string[] = [];
  for (const a of attrs) {
    if (a.value.type === 'DateTime') dates.set(a.name, [...(dates.get(a.name) ?? []), a.value.value]);
    if (a.name === GRANT_ATTRIBUTE && a.value.type === 'TextString') grantees.push(a.value.value);
  }
  const state = enumValue(attrs, AttributeName.State);
  const mask = attrs.find((a) => a.name === AttributeName.CryptographicUsageMask)?.value;
  return {
    id: record.id,
    owner: record.owner,
    version: record.version,
    seq,
    grantees,
    destroyed: state === State.Destroyed || state === State.DestroyedCompromised,
    keys,
    dates,
    usageMask: mask?.type === 'Integer' ? mask.value : undefined,
  };
}
