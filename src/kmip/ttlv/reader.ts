import { KmipError } from '../errors.js';
import { tagName } from '../tags.js';
import { defaultDecodeLimits, ItemType, TTLV_HEADER_SIZE, type DecodeLimits, type TtlvItem } from './types.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Fixed value lengths (KMIP 1.4 §9.1.1.4); -1 = variable. */
const fixedLength: Readonly<Record<number, number>> = {
  [ItemType.Integer]: 4,
  [ItemType.LongInteger]: 8,
  [ItemType.Enumeration]: 4,
  [ItemType.Boolean]: 8,
  [ItemType.DateTime]: 8,
  [ItemType.Interval]: 4,
};

/** Bytes of padding after a value of `length` bytes, up to the next multiple of 8. */
export function paddingOf(length: number): number {
  return (8 - (length % 8)) % 8;
}

/**
 * Reads the 8-byte header of a message at the start of `buf` and returns the total message size
 * (header + value), after checking it against `maxMessageSize`. Used to frame messages on a stream
 * before the whole message has arrived. Returns undefined while fewer than 8 bytes are there.
 */
export function messageSize(buf: Buffer, limits: Pick<DecodeLimits, 'maxMessageSize'> = defaultDecodeLimits): number | undefined {
  if (buf.length < TTLV_HEADER_SIZE) return undefined;
  const type = buf[3];
  if (type !== ItemType.Structure) {
    throw new KmipError('TTLV_BAD_TYPE', `message must be a Structure, got item type 0x${(type ?? 0).toString(16)}`);
  }
  const total = TTLV_HEADER_SIZE + buf.readUInt32BE(4);
  if (total > limits.maxMessageSize) {
    throw new KmipError('TTLV_TOO_LARGE', `message of ${total} bytes exceeds the limit of ${limits.maxMessageSize}`);
  }
  if (total % 8 !== 0) throw new KmipError('TTLV_BAD_LENGTH', 'message length is not a multiple of 8');
  return total;
}

/**
 * Decodes exactly one TTLV item filling all of `buf` (KMIP 1.4 §9.1). Every length is checked
 * against what remains before anything is allocated; padding must be zero; fixed-size types must
 * have their exact length; nothing may follow the item.
 */
export function decodeTtlv(buf: Buffer, limits: Partial<DecodeLimits> = {}): TtlvItem {
  const lim: DecodeLimits = { ...defaultDecodeLimits, ...limits };
  if (buf.length > lim.maxMessageSize) {
    throw new KmipError('TTLV_TOO_LARGE', `message of ${buf.length} bytes exceeds the limit of ${lim.maxMessageSize}`);
  }
  const state = { items: 0 };
  const [item, end] = readItem(buf, 0, buf.length, 1, lim, state);
  if (end !== buf.length) throw new KmipError('TTLV_TRAILING_BYTES', `${buf.length - end} bytes after the message`);
  return item;
}

function readItem(
  buf: Buffer,
  pos: number,
  limit: number,
  depth: number,
  lim: DecodeLimits,
  state: { items: number },
): [TtlvItem, number] {
  if (depth > lim.maxDepth) throw new KmipError('TTLV_TOO_DEEP', `nesting deeper than ${lim.maxDepth}`);
  if (++state.items > lim.maxItems) throw new KmipError('TTLV_TOO_MANY_ITEMS', `more than ${lim.maxItems} items`);
  if (limit - pos < TTLV_HEADER_SIZE) throw new KmipError('TTLV_TRUNCATED', `item header truncated at offset ${pos}`);
  const tag = buf.readUIntBE(pos, 3);
  const type = buf[pos + 3] ?? 0;
  const length = buf.readUInt32BE(pos + 4);
  const start = pos + TTLV_HEADER_SIZE;
  const where = `${tagName(tag)} at offset ${pos}`;
  if ((tag & 0xff0000) !== 0x420000 && (tag & 0xff0000) !== 0x540000) {
    throw new KmipError('TTLV_BAD_VALUE', `tag 0x${tag.toString(16)} at offset ${pos} is neither standard (42xxxx) nor extension (54xxxx)`);
  }
  const fixed = fixedLength[type];
  if (fixed !== undefined && length !== fixed) {
    throw new KmipError('TTLV_BAD_LENGTH', `${where}: length ${length}, type requires ${fixed}`);
  }
  const padded = length + paddingOf(length);
  if (padded > limit - start) {
    throw new KmipError('TTLV_TRUNCATED', `${where}: length ${length} exceeds the ${limit - start} bytes left`);
  }
  const end = start + padded;
  for (let i = start + length; i < end; i++) {
    if (buf[i] !== 0) throw new KmipError('TTLV_BAD_PADDING', `${where}: non-zero padding`);
  }
  switch (type) {
    case ItemType.Structure: {
      if (length % 8 !== 0) throw new KmipError('TTLV_BAD_LENGTH', `${where}: structure length ${length} not a multiple of 8`);
      const children: TtlvItem[] = [];
      let p = start;
      const stop = start + length;
      while (p < stop) {
        const [child, next] = readItem(buf, p, stop, depth + 1, lim, state);
        children.push(child);
        p = next;
      }
      return [{ tag, type: 'Structure', value: children }, end];
    }
    case ItemType.Integer:
      return [{ tag, type: 'Integer', value: buf.readInt32BE(start) }, end];
    case ItemType.LongInteger:
      return [{ tag, type: 'LongInteger', value: buf.readBigInt64BE(start) }, end];
    case ItemType.BigInteger:
      if (length % 8 !== 0 || length === 0) {
        throw new KmipError('TTLV_BAD_LENGTH', `${where}: big integer length ${length} not a positive multiple of 8`);
      }
      return [{ tag, type: 'BigInteger', value: Buffer.from(buf.subarray(start, start + length)) }, end];
    case ItemType.Enumeration:
      return [{ tag, type: 'Enumeration', value: buf.readUInt32BE(start) }, end];
    case ItemType.Boolean: {
      const v = buf.readBigUInt64BE(start);
      if (v > 1n) throw new KmipError('TTLV_BAD_VALUE', `${where}: boolean must be 0 or 1`);
      return [{ tag, type: 'Boolean', value: v === 1n }, end];
    }
    case ItemType.TextString: {
      let value: string;
      try {
        value = utf8.decode(buf.subarray(start, start + length));
      } catch (err) {
        throw new KmipError('TTLV_BAD_VALUE', `${where}: text string is not valid UTF-8`, { cause: err });
      }
      return [{ tag, type: 'TextString', value }, end];
    }
    case ItemType.ByteString:
      return [{ tag, type: 'ByteString', value: Buffer.from(buf.subarray(start, start + length)) }, end];
    case ItemType.DateTime:
      return [{ tag, type: 'DateTime', value: buf.readBigInt64BE(start) }, end];
    case ItemType.Interval:
      return [{ tag, type: 'Interval', value: buf.readUInt32BE(start) }, end];
    default:
      throw new KmipError('TTLV_BAD_TYPE', `${where}: unknown item type 0x${type.toString(16)}`);
  }
}
