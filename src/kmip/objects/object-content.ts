import { ObjectType } from '../enums.js';
import { KmipError } from '../errors.js';
import { Tag } from '../tags.js';
import type { TtlvItem } from '../ttlv/index.js';
import { decodeAsymmetricKey, encodeAsymmetricKey, type AsymmetricKey } from './asymmetric-key.js';
import { decodeCertificate, encodeCertificate, type Certificate } from './certificate.js';
import { wipeKeyMaterial } from './key-block.js';
import { decodeOpaqueObject, encodeOpaqueObject, type OpaqueObject } from './opaque-object.js';
import { decodeSecretData, encodeSecretData, type SecretData } from './secret-data.js';
import { decodeSplitKey, encodeSplitKey, type SplitKey } from './split-key.js';
import { decodeSymmetricKey, encodeSymmetricKey, type SymmetricKey } from './symmetric-key.js';
import { decodeTemplate, encodeTemplate, type Template } from './template.js';

/** The managed objects (KMIP 1.4 §2.2) vmcrypt registers and returns, by Object Type. */
export type ObjectContent =
  | { readonly objectType: typeof ObjectType.SymmetricKey; readonly symmetricKey: SymmetricKey }
  | { readonly objectType: typeof ObjectType.SecretData; readonly secretData: SecretData }
  | { readonly objectType: typeof ObjectType.OpaqueObject; readonly opaqueObject: OpaqueObject }
  | { readonly objectType: typeof ObjectType.Certificate; readonly certificate: Certificate }
  | { readonly objectType: typeof ObjectType.PublicKey; readonly publicKey: AsymmetricKey }
  | { readonly objectType: typeof ObjectType.PrivateKey; readonly privateKey: AsymmetricKey }
  | { readonly objectType: typeof ObjectType.SplitKey; readonly splitKey: SplitKey }
  | { readonly objectType: typeof ObjectType.Template; readonly template: Template };

/** Object types whose content vmcrypt stores (Register, Get), in Object Type order. */
export const supportedObjectTypes: readonly number[] = [
  ObjectType.Certificate,
  ObjectType.SymmetricKey,
  ObjectType.PublicKey,
  ObjectType.PrivateKey,
  ObjectType.SplitKey,
  ObjectType.Template,
  ObjectType.SecretData,
  ObjectType.OpaqueObject,
];

export function encodeObjectContent(c: ObjectContent): TtlvItem {
  switch (c.objectType) {
    case ObjectType.SymmetricKey:
      return encodeSymmetricKey(c.symmetricKey);
    case ObjectType.SecretData:
      return encodeSecretData(c.secretData);
    case ObjectType.OpaqueObject:
      return encodeOpaqueObject(c.opaqueObject);
    case ObjectType.Certificate:
      return encodeCertificate(c.certificate);
    case ObjectType.PublicKey:
      return encodeAsymmetricKey(c.objectType, c.publicKey);
    case ObjectType.PrivateKey:
      return encodeAsymmetricKey(c.objectType, c.privateKey);
    case ObjectType.SplitKey:
      return encodeSplitKey(c.splitKey);
    case ObjectType.Template:
      return encodeTemplate(c.template);
  }
}

const tagOf = new Map<number, number>([
  [ObjectType.Certificate, Tag.Certificate],
  [ObjectType.SymmetricKey, Tag.SymmetricKey],
  [ObjectType.PublicKey, Tag.PublicKey],
  [ObjectType.PrivateKey, Tag.PrivateKey],
  [ObjectType.SplitKey, Tag.SplitKey],
  [ObjectType.Template, Tag.Template],
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
    case ObjectType.Certificate:
      return { objectType, certificate: decodeCertificate(item) };
    case ObjectType.PublicKey:
      return { objectType, publicKey: decodeAsymmetricKey(objectType, item) };
    case ObjectType.PrivateKey:
      return { objectType, privateKey: decodeAsymmetricKey(objectType, item) };
    case ObjectType.SplitKey:
      return { objectType, splitKey: decodeSplitKey(item) };
    case ObjectType.Template:
      return { objectType, template: decodeTemplate(item) };
    default:
      return { objectType: ObjectType.SymmetricKey, symmetricKey: decodeSymmetricKey(item) };
  }
}

/** Zeroes every key byte `c` holds (for public objects too: cheap, and one rule for all types). */
export function wipeObjectContent(c: ObjectContent): void {
  switch (c.objectType) {
    case ObjectType.SymmetricKey:
      return void c.symmetricKey.material.fill(0);
    case ObjectType.SecretData:
      return void c.secretData.value.fill(0);
    case ObjectType.OpaqueObject:
      return void c.opaqueObject.value.fill(0);
    case ObjectType.Certificate:
      return void c.certificate.value.fill(0);
    case ObjectType.PublicKey:
      return wipeKeyMaterial(c.publicKey.keyBlock.material);
    case ObjectType.PrivateKey:
      return wipeKeyMaterial(c.privateKey.keyBlock.material);
    case ObjectType.SplitKey:
      return wipeKeyMaterial(c.splitKey.keyBlock.material);
    case ObjectType.Template:
      return;
  }
}
