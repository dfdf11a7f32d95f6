import type { KeyObject } from 'node:crypto';
import { ObjectType } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import type { ObjectContent } from '../../kmip/objects/object-content.js';
import { decodeSplitKey, encodeSplitKey } from '../../kmip/objects/split-key.js';
import { decodeTemplate, encodeTemplate } from '../../kmip/objects/template.js';
import { decodeTtlv, encodeTtlv } from '../../kmip/ttlv/index.js';
import { keyFromDer, type AsymmetricObjectType } from '../keygen/asymmetric-formats.js';

/**
 * What the sealer seals for each object type; the record format (attributes + one sealed blob)
 * is the same for all, and the sealed bytes carry the type-specific fields so they are as
 * protected as the value:
 * - symmetric key: its bytes, as since 1.0 (old records stay readable);
 * - secret data, opaque object, certificate: their 4-byte type (Secret Data / Opaque Data /
 *   Certificate Type, big-endian), then their bytes;
 * - public and private keys: see packKey;
 * - split key, template: the object's own TTLV encoding (KMIP 1.4 §2.2.5, §2.2.6).
 */
export function packContent(c: ObjectContent): Buffer {
  switch (c.objectType) {
    case ObjectType.SymmetricKey:
      return Buffer.from(c.symmetricKey.material);
    case ObjectType.SecretData:
      return typed(c.secretData.secretDataType, c.secretData.value);
    case ObjectType.OpaqueObject:
      return typed(c.opaqueObject.opaqueDataType, c.opaqueObject.value);
    case ObjectType.Certificate:
      return typed(c.certificate.certificateType, c.certificate.value);
    case ObjectType.SplitKey:
      return encodeTtlv(encodeSplitKey(c.splitKey));
    case ObjectType.Template:
      return encodeTtlv(encodeTemplate(c.template));
    default:
      throw new KmipError('KMIP_GENERAL_FAILURE', 'public and private keys are packed with packKey');
  }
}

function typed(type: number, value: Buffer): Buffer {
  const out = Buffer.alloc(4 + value.length);
  out.writeUInt32BE(type >>> 0, 0);
  value.copy(out, 4);
  return out;
}

/** A stored public or private key: the format it came in (Get's default) and its DER form. */
export interface StoredKey {
  /** Key Format Type the key was registered or created in: what Get returns when asked for none. */
  readonly registeredFormat: number;
  /** Key Format Type of `der` (PKCS#1, PKCS#8, X.509 or EC Private Key). */
  readonly derFormat: number;
  readonly der: Buffer;
}

/** 4-byte registered format, 4-byte DER format, the DER bytes (kept as received when the client sent DER). */
export function packKey(k: StoredKey): Buffer {
  const out = Buffer.alloc(8 + k.der.length);
  out.writeUInt32BE(k.registeredFormat >>> 0, 0);
  out.writeUInt32BE(k.derFormat >>> 0, 4);
  k.der.copy(out, 8);
  return out;
}

/** The stored key in `plain`; `der` is a view of `plain`. */
export function unpackKey(plain: Buffer): StoredKey {
  if (plain.length < 9) throw new KmipError('KMIP_GENERAL_FAILURE', 'stored key is corrupt');
  return { registeredFormat: plain.readUInt32BE(0), derFormat: plain.readUInt32BE(4), der: plain.subarray(8) };
}

/**
 * The key of a stored public or private key object (its unsealed bytes `plain`), for the
 * cryptographic services (Sign, Signature Verify, RSA wrapping). OpenSSL keeps its own copy, which
 * JavaScript cannot zero; the caller still zeroes `plain`.
 */
export function storedKeyObject(objectType: AsymmetricObjectType, plain: Buffer): KeyObject {
  const k = unpackKey(plain);
  return keyFromDer(objectType, k.derFormat, k.der);
}

/**
 * The content of an object of `objectType` (not a public or private key: unpackKey) from its
 * unsealed bytes. Secret data, opaque objects and certificates are views of `plain`; a split
 * key's material is a copy the caller zeroes too (wipeObjectContent).
 */
export function unpackContent(objectType: number, plain: Buffer, symmetric: () => ObjectContent): ObjectContent {
  if (objectType === ObjectType.SymmetricKey) return symmetric();
  if (objectType === ObjectType.SplitKey) return { objectType, splitKey: decodeSplitKey(decodeTtlv(plain)) };
  if (objectType === ObjectType.Template) return { objectType, template: decodeTemplate(decodeTtlv(plain)) };
  if (plain.length < 4) throw new KmipError('KMIP_GENERAL_FAILURE', 'stored object content is corrupt');
  const type = plain.readUInt32BE(0);
  const value = plain.subarray(4);
  if (objectType === ObjectType.SecretData) return { objectType, secretData: { secretDataType: type, value } };
  if (objectType === ObjectType.OpaqueObject) return { objectType, opaqueObject: { opaqueDataType: type, value } };
  if (objectType === ObjectType.Certificate) return { objectType, certificate: { certificateType: type, value } };
  throw new KmipError('KMIP_GENERAL_FAILURE', `stored object has unsupported type ${objectType}`);
}
