import { AttributeName as A, type Attribute } from '../../kmip/attributes.js';
import { CryptographicAlgorithm, KeyFormatType as F, ObjectType } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import type { KeyMaterial } from '../../kmip/objects/key-block.js';
import type { ObjectContent } from '../../kmip/objects/object-content.js';
import { exportKey, keyFromDer, type AsymmetricObjectType } from '../keygen/asymmetric-formats.js';
import { enumValue } from '../managed-object.js';
import { unpackContent, unpackKey } from './stored-content.js';

/** An object's content for a Get response, and every buffer in it that holds key bytes (zeroed once sent). */
export interface GetContent {
  readonly content: ObjectContent;
  readonly secrets: readonly Buffer[];
}

/** Key Format Types of the object types whose format does not depend on the key; the first is the default. */
const fixedFormats = new Map<number, readonly number[]>([
  [ObjectType.SymmetricKey, [F.Raw, F.TransparentSymmetricKey]],
  [ObjectType.SecretData, [F.Opaque]],
  // Certificates, opaque objects and templates have no Key Block: no Key Format Type applies.
  [ObjectType.Certificate, []],
  [ObjectType.OpaqueObject, []],
  [ObjectType.Template, []],
]);

/**
 * The content of an object from its unsealed bytes `plain`, in Key Format Type `format` if the
 * client asked for one (KMIP 1.4 §4.11): symmetric keys Raw (default) or Transparent; public and
 * private keys in the format they came in (default) or any other their family allows
 * (asymmetric-formats.ts); split keys as registered. Anything else: Key Format Type Not Supported.
 */
export function contentForGet(objectType: number, plain: Buffer, attrs: readonly Attribute[], format: number | undefined): GetContent {
  const fixed = fixedFormats.get(objectType);
  if (fixed !== undefined && format !== undefined && !fixed.includes(format)) throw unsupported(objectType, format);
  if (objectType === ObjectType.PublicKey || objectType === ObjectType.PrivateKey) return asymmetricForGet(objectType, plain, attrs, format);
  const content = unpackContent(objectType, plain, () => ({
    objectType: ObjectType.SymmetricKey,
    symmetricKey: {
      formatType: format ?? F.Raw,
      material: plain,
      algorithm: enumValue(attrs, A.CryptographicAlgorithm) ?? CryptographicAlgorithm.AES,
      length: enumValue(attrs, A.CryptographicLength) ?? plain.length * 8,
    },
  }));
  if (content.objectType === ObjectType.SplitKey) {
    const material = content.splitKey.keyBlock.material;
    const secrets = [plain, ...('bytes' in material ? [material.bytes] : [])];
    if (format !== undefined && format !== content.splitKey.keyBlock.formatType) {
      for (const s of secrets) s.fill(0);
      throw unsupported(objectType, format);
    }
    return { content, secrets };
  }
  return { content, secrets: [plain] };
}

function asymmetricForGet(objectType: AsymmetricObjectType, plain: Buffer, attrs: readonly Attribute[], format: number | undefined): GetContent {
  const stored = unpackKey(plain);
  const want = format ?? stored.registeredFormat;
  let material: KeyMaterial;
  if (want === stored.derFormat) {
    material = { bytes: stored.der };
  } else {
    const key = keyFromDer(objectType, stored.derFormat, stored.der);
    material = exportKey(objectType, key, want);
  }
  const keyBlock = {
    formatType: want,
    material,
    ...optional('algorithm', enumValue(attrs, A.CryptographicAlgorithm)),
    ...optional('length', enumValue(attrs, A.CryptographicLength)),
  };
  const secrets = [plain, ...('bytes' in material ? [material.bytes] : material.fields.flatMap((f) => (f.type === 'ByteString' || f.type === 'BigInteger' ? [f.value] : [])))];
  const content: ObjectContent = objectType === ObjectType.PrivateKey ? { objectType, privateKey: { keyBlock } } : { objectType, publicKey: { keyBlock } };
  return { content, secrets };
}

const optional = <K extends string>(k: K, v: number | undefined): { [P in K]?: number } => (v === undefined ? {} : ({ [k]: v } as { [P in K]: number }));

function unsupported(objectType: number, format: number): KmipError {
  return new KmipError('KMIP_KEY_FORMAT_NOT_SUPPORTED', `key format type ${format} is not supported for object type ${objectType}`);
}
