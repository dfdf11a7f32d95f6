import type { Attribute } from '../attributes.js';
import { Fields, type TtlvItem } from '../ttlv/index.js';
import { Tag } from '../tags.js';

/** A JSON-safe attribute value: numbers for integers/enumerations, ISO strings for dates. */
export type PlainValue = string | number | boolean | { readonly [field: string]: PlainValue } | readonly PlainValue[];

/**
 * Get Attributes answers as a plain record the manager can show or store: `Name` → its text,
 * DateTime → ISO 8601, Integer/Enumeration → number, Long Integer → string, Byte String → hex,
 * other structures → an object of their fields (by tag). Multi-instance attributes (several
 * Names, custom attributes with indexes) become arrays. Never used for key material.
 */
export function attributeRecord(attrs: readonly Attribute[]): Record<string, PlainValue> {
  const out: Record<string, PlainValue> = {};
  for (const a of attrs) {
    const v = a.name === 'Name' ? nameText(a.value) : plain(a.value);
    const prev = out[a.name];
    out[a.name] = prev === undefined ? v : Array.isArray(prev) ? [...(prev as PlainValue[]), v] : [prev, v];
  }
  return out;
}

function nameText(item: TtlvItem): PlainValue {
  try {
    return new Fields(item).required(Tag.NameValue, 'TextString');
  } catch {
    return plain(item);
  }
}

function plain(item: TtlvItem): PlainValue {
  switch (item.type) {
    case 'Structure': {
      const o: Record<string, PlainValue> = {};
      for (const c of item.value) o[`0x${c.tag.toString(16)}`] = plain(c);
      return o;
    }
    case 'DateTime':
      return new Date(Number(item.value) * 1000).toISOString();
    case 'LongInteger':
      return item.value.toString();
    case 'BigInteger':
    case 'ByteString':
      return item.value.toString('hex');
    default:
      return item.value;
  }
}
