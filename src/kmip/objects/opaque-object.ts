import { KmipError } from '../errors.js';
import { Tag } from '../tags.js';
import { Fields, ttlv, type TtlvItem } from '../ttlv/index.js';
import { MAX_SECRET_BYTES } from './secret-data.js';

/**
 * An Opaque Object (KMIP 1.4 §2.2.8): bytes the server stores without interpreting them. KMIP 1.x
 * defines no Opaque Data Type values (§9.1.3.2.10: extensions only), so any value is kept as sent.
 * `value` is treated as secret: the caller zeroes it when done.
 */
export interface OpaqueObject {
  readonly opaqueDataType: number;
  readonly value: Buffer;
}

export function encodeOpaqueObject(o: OpaqueObject): TtlvItem {
  return ttlv.struct(Tag.OpaqueObject, [
    ttlv.enumeration(Tag.OpaqueDataType, o.opaqueDataType),
    ttlv.bytes(Tag.OpaqueDataValue, o.value),
  ]);
}

export function decodeOpaqueObject(item: TtlvItem): OpaqueObject {
  const f = new Fields(item, Tag.OpaqueObject);
  const opaqueDataType = f.required(Tag.OpaqueDataType, 'Enumeration');
  const value = f.required(Tag.OpaqueDataValue, 'ByteString');
  if (value.length === 0 || value.length > MAX_SECRET_BYTES) {
    value.fill(0);
    throw new KmipError('KMIP_INVALID_FIELD', `an opaque object must be 1 to ${MAX_SECRET_BYTES} bytes`);
  }
  return { opaqueDataType, value };
}
