import { KmipError } from '../errors.js';
import { Tag } from '../tags.js';
import { Fields, ttlv, wipeTtlv, type TtlvItem } from '../ttlv/index.js';

/** Largest encoded key vmcrypt accepts (DER or one transparent field): an RSA-8192 PKCS#8 key is ~4.8 KiB. */
export const MAX_KEY_BYTES = 16 * 1024;

/**
 * Key Material (KMIP 1.4 §2.1.4): a Byte String for the encoded formats (Raw, Opaque, PKCS#1,
 * PKCS#8, X.509, EC Private Key), a Structure of fields for the Transparent formats (§2.1.7).
 */
export type KeyMaterial = { readonly bytes: Buffer } | { readonly fields: readonly TtlvItem[] };

/**
 * An unwrapped Key Block (KMIP 1.4 §2.1.3) of a public, private or split key. Its material is
 * secret for private and split keys: the caller zeroes it with `wipeKeyMaterial` when done.
 */
export interface KeyBlock {
  readonly formatType: number;
  readonly material: KeyMaterial;
  readonly algorithm?: number;
  readonly length?: number;
}

export function encodeKeyBlock(k: KeyBlock): TtlvItem {
  const material = 'bytes' in k.material ? ttlv.bytes(Tag.KeyMaterial, k.material.bytes) : ttlv.struct(Tag.KeyMaterial, k.material.fields);
  return ttlv.struct(Tag.KeyBlock, [
    ttlv.enumeration(Tag.KeyFormatType, k.formatType),
    ttlv.struct(Tag.KeyValue, [material]),
    ttlv.opt(k.algorithm, (a) => ttlv.enumeration(Tag.CryptographicAlgorithm, a)),
    ttlv.opt(k.length, (l) => ttlv.int(Tag.CryptographicLength, l)),
  ]);
}

/** The Key Block among `parent`'s fields; wrapped blocks are refused (Feature Not Supported). */
export function decodeKeyBlock(parent: Fields): KeyBlock {
  const block = parent.requiredStruct(Tag.KeyBlock);
  const formatType = block.required(Tag.KeyFormatType, 'Enumeration');
  if (block.item(Tag.KeyWrappingData) !== undefined) throw new KmipError('KMIP_FEATURE_NOT_SUPPORTED', 'wrapped key blocks are not supported');
  const keyValue = block.item(Tag.KeyValue);
  if (keyValue === undefined) throw new KmipError('KMIP_MISSING_FIELD', 'Key Block lacks Key Value');
  if (keyValue.type !== 'Structure') throw new KmipError('KMIP_INVALID_FIELD', 'Key Value must be a Structure');
  const raw = new Fields(keyValue).item(Tag.KeyMaterial);
  if (raw === undefined) throw new KmipError('KMIP_MISSING_FIELD', 'Key Value lacks Key Material');
  const material = materialOf(raw);
  const algorithm = block.optional(Tag.CryptographicAlgorithm, 'Enumeration');
  const length = block.optional(Tag.CryptographicLength, 'Integer');
  return { formatType, material, ...(algorithm === undefined ? {} : { algorithm }), ...(length === undefined ? {} : { length }) };
}

function materialOf(raw: TtlvItem): KeyMaterial {
  if (raw.type === 'ByteString') {
    if (raw.value.length === 0 || raw.value.length > MAX_KEY_BYTES) {
      raw.value.fill(0);
      throw new KmipError('KMIP_INVALID_FIELD', `Key Material must be 1 to ${MAX_KEY_BYTES} bytes`);
    }
    return { bytes: raw.value };
  }
  if (raw.type === 'Structure') {
    const fields = raw.value;
    if (fields.length > 16 || fields.some((f) => f.type === 'Structure' || ((f.type === 'ByteString' || f.type === 'BigInteger') && f.value.length > MAX_KEY_BYTES))) {
      wipeTtlv(raw);
      throw new KmipError('KMIP_INVALID_FIELD', 'transparent Key Material has too many or too large fields');
    }
    return { fields };
  }
  throw new KmipError('KMIP_INVALID_FIELD', `Key Material must be a Byte String or a Structure, not ${raw.type}`);
}

/** Zeroes the key bytes of `m` (every byte field of a transparent structure). */
export function wipeKeyMaterial(m: KeyMaterial): void {
  if ('bytes' in m) m.bytes.fill(0);
  else for (const f of m.fields) wipeTtlv(f);
}
