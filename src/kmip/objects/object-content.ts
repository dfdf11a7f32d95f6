import { ObjectType } from '../enums.js';
import { KmipError } from '../errors.js';
import { Tag } from '../tags.js';
import type { TtlvItem } from '../ttlv/index.js';
import { decodeOpaqueObject, encodeOpaqueObject, type OpaqueObject } from './opaque-object.js';
import { decodeSecretData, encodeSecretData, type SecretData } from './secret-data.js';
import { decodeSymmetricKey, encodeSymmetricKey, type SymmetricKey } from './symmetric-key.js';

/** The managed objects (KMIP 1.4 §2.2) vmcrypt registers and returns, by Object Type. */
export type ObjectContent =
  | { readonly objectType: typeof ObjectType.SymmetricKey; readonly symmetricKey: SymmetricKey }
  | { readonly objectType: typeof ObjectType.SecretData; readonly secretData: SecretData }
  | { readonly objectType: typeof ObjectType.OpaqueObject; readonly opaqueObject: OpaqueObject };

/** Object types whose content vmcrypt stores (Register, Get). */
export const supportedObjectTypes: readonly number[] = [ObjectType.SymmetricKey, ObjectType.SecretData, ObjectType.OpaqueObject];

export function encodeObjectContent(c: ObjectContent): TtlvItem {
  switch (c.objectType) {
    case ObjectType.SymmetricKey:
      return encodeSymmetricKey(c.symmetricKey);
    case ObjectType.SecretData:
      return encodeSecretData(c.secretData);
    case ObjectType.OpaqueObject:
      return encodeOpaqueObject(c.opaqueObject);
  }
}

const tagOf = new Map<number, number>([
  [ObjectType.SymmetricKey, Tag.SymmetricKey],
  [ObjectType.SecretData, Tag.SecretData],
  [ObjectType.OpaqueObject, Tag.OpaqueObject],
]);

/** The object of `objectType` among a payload's items; Missing Field if absent. */
export function decodeObjectContent(objectType: number, find: (tag: number) => TtlvItem | undefined): ObjectContent {
  const tag = tagOf.get(objectType);
  if (tag === undefined) throw new KmipError('KMIP_FEATURE_NOT_SUPPORTED', `object type ${objectType} is not supported`);
  const item = find(tag);
  if (item === undefined) throw new KmipError('KMIP_MISSING_FIELD', `the payload lacks the object of type ${objectType}`);
  switch (objectType) {
    case ObjectType.SecretData:
      return { objectType, secretData: decodeSecretData(item) };
    case ObjectType.OpaqueObject:
      return { objectType, opaqueObject: decodeOpaqueObject(item) };
    default:
      return { objectType: ObjectType.SymmetricKey, symmetricKey: decodeSymmetricKey(item) };
  }
}

/** The secret bytes of `c`, for zeroing. */
export function contentBytes(c: ObjectContent): Buffer {
  switch (c.objectType) {
    case ObjectType.SymmetricKey:
      return c.symmetricKey.material;
    case ObjectType.SecretData:
      return c.secretData.value;
    case ObjectType.OpaqueObject:
      return c.opaqueObject.value;
  }
}
