import { KeyFormatType } from '../enums.js';
import { KmipError } from '../errors.js';
import { Tag } from '../tags.js';
import { Fields, ttlv, type TtlvItem } from '../ttlv/index.js';

/** Largest secret (password, seed) or opaque value vmcrypt stores: far above any real one. */
export const MAX_SECRET_BYTES = 64 * 1024;

/**
 * A Secret Data object (KMIP 1.4 §2.2.7): a Secret Data Type (password, seed) and a Key Block whose
 * Key Format Type is Opaque (§2.1.3, §9.1.3.2.3) holding the bytes unwrapped.
 * `value` is secret: the caller zeroes it when done.
 */
export interface SecretData {
  readonly secretDataType: number;
  readonly value: Buffer;
}

export function encodeSecretData(s: SecretData): TtlvItem {
  return ttlv.struct(Tag.SecretData, [
    ttlv.enumeration(Tag.SecretDataType, s.secretDataType),
    ttlv.struct(Tag.KeyBlock, [
      ttlv.enumeration(Tag.KeyFormatType, KeyFormatType.Opaque),
      ttlv.struct(Tag.KeyValue, [ttlv.bytes(Tag.KeyMaterial, s.value)]),
    ]),
  ]);
}

export function decodeSecretData(item: TtlvItem): SecretData {
  const f = new Fields(item, Tag.SecretData);
  const secretDataType = f.required(Tag.SecretDataType, 'Enumeration');
  const block = f.requiredStruct(Tag.KeyBlock);
  const format = block.required(Tag.KeyFormatType, 'Enumeration');
  if (block.item(Tag.KeyWrappingData) !== undefined) throw new KmipError('KMIP_FEATURE_NOT_SUPPORTED', 'wrapped key blocks are not supported');
  if (format !== KeyFormatType.Opaque) {
    throw new KmipError('KMIP_KEY_FORMAT_NOT_SUPPORTED', `key format type ${format} is not supported for secret data (Opaque only)`);
  }
  const value = block.requiredStruct(Tag.KeyValue).required(Tag.KeyMaterial, 'ByteString');
  if (value.length === 0 || value.length > MAX_SECRET_BYTES) {
    value.fill(0);
    throw new KmipError('KMIP_INVALID_FIELD', `secret data must be 1 to ${MAX_SECRET_BYTES} bytes`);
  }
  return { secretDataType, value };
}
