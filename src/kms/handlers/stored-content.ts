import { ObjectType } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import type { ObjectContent } from '../../kmip/objects/object-content.js';

/**
 * What the sealer seals for each object type. A symmetric key: its bytes, as since 1.0 (old
 * records stay readable). Secret data and opaque objects: their 4-byte type (Secret Data Type,
 * Opaque Data Type; big-endian) then their bytes, so the type is as protected as the value and the
 * record format (attributes + one sealed blob) does not change.
 */
export function packContent(c: ObjectContent): Buffer {
  if (c.objectType === ObjectType.SymmetricKey) return Buffer.from(c.symmetricKey.material);
  const [type, value] =
    c.objectType === ObjectType.SecretData ? [c.secretData.secretDataType, c.secretData.value] : [c.opaqueObject.opaqueDataType, c.opaqueObject.value];
  const out = Buffer.alloc(4 + value.length);
  out.writeUInt32BE(type >>> 0, 0);
  value.copy(out, 4);
  return out;
}

/**
 * The content of an object of `objectType` from its unsealed bytes. The returned value is a view
 * of `plain`: zeroing `plain` zeroes it.
 */
export function unpackContent(objectType: number, plain: Buffer, symmetric: () => ObjectContent): ObjectContent {
  if (objectType === ObjectType.SymmetricKey) return symmetric();
  if (plain.length < 4) throw new KmipError('KMIP_GENERAL_FAILURE', 'stored object content is corrupt');
  const type = plain.readUInt32BE(0);
  const value = plain.subarray(4);
  if (objectType === ObjectType.SecretData) return { objectType, secretData: { secretDataType: type, value } };
  if (objectType === ObjectType.OpaqueObject) return { objectType, opaqueObject: { opaqueDataType: type, value } };
  throw new KmipError('KMIP_GENERAL_FAILURE', `stored object has unsupported type ${objectType}`);
}
