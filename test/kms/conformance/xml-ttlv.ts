import type { TtlvItem } from '../../../src/kmip/ttlv/index.js';
import { enumValue, integerValue, tagOf } from './kmip-names.js';
import type { XmlNode } from './xml.js';

/**
 * KMIP XML encoding → TTLV, for the requests of the OASIS test cases. `$NAME` values are
 * placeholders: `$NOW` is the current time, any other is a value bound from an earlier response
 * (`$UNIQUE_IDENTIFIER_0`, `$IV_COUNTER_NONCE`, …; see compare.ts).
 */
export type Bindings = Map<string, TtlvItem['value']>;

export function dateOf(value: string): bigint {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new Error(`bad DateTime ${value}`);
  return BigInt(Math.floor(ms / 1000));
}

function bytesOf(value: string): Buffer {
  const hex = value.startsWith('0x') ? value.slice(2) : value;
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new Error(`bad hex ${value.slice(0, 40)}`);
  return Buffer.from(hex, 'hex');
}

function bigIntOf(value: string): Buffer {
  const b = bytesOf(value.length % 2 === 1 ? `0${value}` : value);
  const pad = (8 - (b.length % 8)) % 8;
  return Buffer.concat([Buffer.alloc(pad, b.length > 0 && ((b[0] ?? 0) & 0x80) !== 0 ? 0xff : 0), b]);
}

/** The TTLV value of a leaf `type`/`value` pair; `field` and `attributeName` pick the enumeration. */
export function leafValue(type: string, value: string, field: string, attributeName: string | undefined): TtlvItem['value'] {
  switch (type) {
    case 'Integer':
      return integerValue(field, value, attributeName);
    case 'LongInteger':
      return BigInt(value);
    case 'BigInteger':
      return bigIntOf(value);
    case 'Enumeration':
      return enumValue(field, value, attributeName);
    case 'Boolean':
      if (value !== 'true' && value !== 'false') throw new Error(`bad Boolean ${value}`);
      return value === 'true';
    case 'TextString':
      return value;
    case 'ByteString':
      return bytesOf(value);
    case 'DateTime':
      return dateOf(value);
    case 'Interval':
      return Number(value);
    default:
      throw new Error(`unknown type ${type} in <${field}>`);
  }
}

/** `$NOW`, `$NOW-3600`, `$NOW+60`: the offset in seconds from now; undefined for anything else. */
export function nowOffset(raw: string): number | undefined {
  const m = /^\$NOW(?:([+-])([0-9]{1,9}))?$/.exec(raw);
  if (m === null) return undefined;
  return m[1] === undefined ? 0 : (m[1] === '-' ? -1 : 1) * Number(m[2]);
}

/** The name an <Attribute> structure carries, so its <AttributeValue> reads the right enumeration. */
export function attributeNameOf(node: XmlNode): string | undefined {
  return node.children.find((c) => c.name === 'AttributeName')?.attrs['value'];
}

export function toTtlv(node: XmlNode, vars: Bindings, attributeName?: string): TtlvItem {
  const tag = tagOf(node.name);
  const type = node.attrs['type'] ?? 'Structure';
  if (type === 'Structure') {
    const inner = node.name === 'Attribute' ? attributeNameOf(node) : attributeName;
    return { tag, type: 'Structure', value: node.children.map((c) => toTtlv(c, vars, inner)) };
  }
  const raw = node.attrs['value'];
  if (raw === undefined) throw new Error(`<${node.name}> has no value`);
  let value: TtlvItem['value'];
  const now = nowOffset(raw);
  if (now !== undefined) value = BigInt(Math.floor(Date.now() / 1000) + now);
  else if (raw.startsWith('$')) {
    const bound = vars.get(raw.slice(1));
    if (bound === undefined) throw new Error(`placeholder ${raw} used before a response bound it`);
    value = bound;
  } else value = leafValue(type, raw, node.name, attributeName);
  return { tag, type, value } as TtlvItem;
}
