import { KmipError } from '../errors.js';
import { tagName } from '../tags.js';
import { paddingOf } from './reader.js';
import { ItemType, TTLV_HEADER_SIZE, type TtlvItem } from './types.js';

/** Encodes one TTLV item (and its children) into a new Buffer (KMIP 1.4 §9.1). */
export function encodeTtlv(item: TtlvItem): Buffer {
  const out = Buffer.alloc(encodedSize(item));
  const end = writeItem(out, 0, item);
  if (end !== out.length) throw new KmipError('KMIP_GENERAL_FAILURE', 'TTLV size mismatch while encoding');
  return out;
}

/** Bytes `item` takes on the wire, padding included. */
export function encodedSize(item: TtlvItem): number {
  const len = valueLength(item);
  return TTLV_HEADER_SIZE + len + paddingOf(len);
}

function valueLength(item: TtlvItem): number {
  switch (item.type) {
    case 'Structure': {
      let n = 0;
      for (const c of item.value) n += encodedSize(c);
      return n;
    }
    case 'Integer':
    case 'Enumeration':
    case 'Interval':
      return 4;
    case 'LongInteger':
    case 'Boolean':
    case 'DateTime':
      return 8;
    case 'BigInteger':
      if (item.value.length === 0 || item.value.length % 8 !== 0) {
        throw new KmipError('TTLV_BAD_LENGTH', `${tagName(item.tag)}: big integer must be a positive multiple of 8 bytes`);
      }
      return item.value.length;
    case 'TextString':
      return Buffer.byteLength(item.value, 'utf8');
    case 'ByteString':
      return item.value.length;
  }
}

function writeItem(out: Buffer, pos: number, item: TtlvItem): number {
  if (!Number.isInteger(item.tag) || item.tag < 0 || item.tag > 0xffffff) {
    throw new KmipError('TTLV_BAD_VALUE', `tag ${item.tag} does not fit 3 bytes`);
  }
  const len = valueLength(item);
  out.writeUIntBE(item.tag, pos, 3);
  out.writeUInt8(ItemType[item.type], pos + 3);
  out.writeUInt32BE(len, pos + 4);
  const start = pos + TTLV_HEADER_SIZE;
  switch (item.type) {
    case 'Structure': {
      let p = start;
      for (const c of item.value) p = writeItem(out, p, c);
      break;
    }
    case 'Integer':
      out.writeInt32BE(item.value, start);
      break;
    case 'Enumeration':
    case 'Interval':
      out.writeUInt32BE(item.value, start);
      break;
    case 'LongInteger':
    case 'DateTime':
      out.writeBigInt64BE(item.value, start);
      break;
    case 'Boolean':
      out.writeBigUInt64BE(item.value ? 1n : 0n, start);
      break;
    case 'BigInteger':
    case 'ByteString':
      item.value.copy(out, start);
      break;
    case 'TextString':
      out.write(item.value, start, 'utf8');
      break;
  }
  // Buffer.alloc zero-fills, so the padding is already zero.
  return start + len + paddingOf(len);
}
