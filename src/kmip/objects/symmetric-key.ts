import { KmipError } from '../errors.js';
import { KeyFormatType } from '../enums.js';
import { Tag } from '../tags.js';
import { Fields, ttlv, type TtlvItem } from '../ttlv/index.js';

/**
 * A Symmetric Key object (KMIP 1.4 §2.2.2) with its Key Block (§2.1.3). vmcrypt supports
 * unwrapped keys in Raw or Transparent Symmetric Key format (§2.1.7.1).
 * `material` holds key bytes: the caller zeroes it when done.
 */
export interface SymmetricKey {
  readonly formatType: number;
  readonly material: Buffer;
  readonly algorithm?: number;
  readonly length?: number;
}

export function encodeSymmetricKey(k: SymmetricKey): TtlvItem {
  const material =
    k.formatType === KeyFormatType.TransparentSymmetricKey
      ? ttlv.struct(Tag.KeyMaterial, [ttlv.bytes(Tag.Key, k.material)])
      : ttlv.bytes(Tag.KeyMaterial, k.material);
  return ttlv.struct(Tag.SymmetricKey, [
    ttlv.struct(Tag.KeyBlock, [
      ttlv.enumeration(Tag.KeyFormatType, k.formatType),
      ttlv.struct(Tag.KeyValue, [material]),
      ttlv.opt(k.algorithm, (a) => ttlv.enumeration(Tag.CryptographicAlgorithm, a)),
      ttlv.opt(k.length, (l) => ttlv.int(Tag.CryptographicLength, l)),
    ]),
  ]);
}

export function decodeSymmetricKey(item: TtlvItem): SymmetricKey {
  const block = new Fields(item, Tag.SymmetricKey).requiredStruct(Tag.KeyBlock);
  const formatType = block.required(Tag.KeyFormatType, 'Enumeration');
  if (block.item(Tag.KeyWrappingData) !== undefined) {
    throw new KmipError('KMIP_FEATURE_NOT_SUPPORTED', 'wrapped key blocks are not supported');
  }
  const keyValue = block.item(Tag.KeyValue);
  if (keyValue === undefined) throw new KmipError('KMIP_MISSING_FIELD', 'Key Block lacks Key Value');
  if (keyValue.type !== 'Structure') throw new KmipError('KMIP_INVALID_FIELD', 'Key Value must be a Structure');
  const kv = new Fields(keyValue);
  let material: Buffer;
  if (formatType === KeyFormatType.Raw || formatType === KeyFormatType.Opaque) {
    material = kv.required(Tag.KeyMaterial, 'ByteString');
  } else if (formatType === KeyFormatType.TransparentSymmetricKey) {
    material = kv.requiredStruct(Tag.KeyMaterial).required(Tag.Key, 'ByteString');
  } else {
    throw new KmipError('KMIP_KEY_FORMAT_NOT_SUPPORTED', `key format type ${formatType} is not supported for symmetric keys`);
  }
  const algorithm = block.optional(Tag.CryptographicAlgorithm, 'Enumeration');
  const length = block.optional(Tag.CryptographicLength, 'Integer');
  return {
    formatType,
    material,
    ...(algorithm === undefined ? {} : { algorithm }),
    ...(length === undefined ? {} : { length }),
  };
}
