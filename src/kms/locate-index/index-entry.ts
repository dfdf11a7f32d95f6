import { AttributeName, nameValueOf, type Attribute } from '../../kmip/attributes.js';
import { State } from '../../kmip/enums.js';
import { Tag } from '../../kmip/tags.js';
import { encodeTtlv, type TtlvItem } from '../../kmip/ttlv/index.js';
import { enumValue, parseAttributes, withImplied } from '../managed-object.js';
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

export function entryOf(record: KeyRecord, seq: number): IndexEntry {
  const attrs = withImplied(parseAttributes(record.attributes));
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
    // Dates are nearly unique per object: kept in `dates` only (a posting set per date would cost
    // more memory than it saves), matched there by range or equality.
    // The Unique Identifier is the entry's own key: not posted either.
    keys: attrs.filter((a) => a.value.type !== 'DateTime' && a.name !== AttributeName.UniqueIdentifier).map(lookupKey),
    dates,
    usageMask: mask?.type === 'Integer' ? mask.value : undefined,
  };
}
