import { attr, AttributeName, type Attribute } from '../../attributes.js';
import { CryptographicAlgorithm, CryptographicUsageMask, KeyFormatType, ObjectType } from '../../enums.js';
import { Operation } from '../../operation-codes.js';
import { decodeCreateResponse, encodeCreateRequest } from '../../payloads/create.js';
import { decodeGetResponse, encodeGetRequest } from '../../payloads/get.js';
import type { OpCall } from '../call.js';
import { KmipClientError, KmipClientErrorCode } from '../errors.js';

/** What to create: an AES key (the KEKs vmcrypt uses), with its Name and custom attributes. */
export interface CreateKeySpec {
  /** 128, 192 or 256 bits. Default 256. */
  readonly length?: 128 | 192 | 256;
  /** Name attribute (KMIP 1.1 §3.2), type Uninterpreted Text String. */
  readonly name?: string;
  /** Cryptographic Usage Mask (§3.19). Default Encrypt | Decrypt. */
  readonly usageMask?: number;
  /** Extra attributes, typically custom ones named `x-…` (§3.39). */
  readonly attributes?: readonly Attribute[];
}

/** Create (KMIP 1.1 §4.1) of an AES symmetric key; resolves to its Unique Identifier. */
export function createKeyCall(spec: CreateKeySpec = {}): OpCall<string> {
  const length = spec.length ?? 256;
  if (length !== 128 && length !== 192 && length !== 256) {
    throw new KmipClientError(KmipClientErrorCode.invalidArgument, `AES key length must be 128, 192 or 256, not ${String(length)}`);
  }
  for (const a of spec.attributes ?? []) {
    if (typeof a.name !== 'string' || a.name === '' || a.name.length > 256) {
      throw new KmipClientError(KmipClientErrorCode.invalidArgument, 'attribute names must be 1–256 characters');
    }
  }
  const attributes: Attribute[] = [
    attr.enumeration(AttributeName.CryptographicAlgorithm, CryptographicAlgorithm.AES),
    attr.int(AttributeName.CryptographicLength, length),
    attr.int(AttributeName.CryptographicUsageMask, spec.usageMask ?? CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt),
    ...(spec.name === undefined ? [] : [attr.name(spec.name)]),
    ...(spec.attributes ?? []),
  ];
  return {
    operation: Operation.Create,
    name: 'Create',
    payload: encodeCreateRequest({ objectType: ObjectType.SymmetricKey, templateAttribute: { templateNames: [], attributes } }),
    decode: (p) => decodeCreateResponse(p).uniqueIdentifier,
  };
}

/** A key fetched with Get. `material` is secret: zero it (`.fill(0)`) once used. */
export interface FetchedKey {
  readonly uniqueIdentifier: string;
  readonly objectType: number;
  readonly formatType: number;
  readonly algorithm: number | undefined;
  /** Length in bits as the server reports it (or 8 × material length). */
  readonly length: number;
  readonly material: Buffer;
}

export const KeyFormat = {
  raw: KeyFormatType.Raw,
  transparent: KeyFormatType.TransparentSymmetricKey,
} as const;

/**
 * Get (KMIP 1.1 §4.11) of a symmetric key, unwrapped. `uid` undefined = the batch's ID
 * Placeholder (the object created earlier in the same batch). `format` undefined = as stored.
 */
export function getKeyCall(uid: string | undefined, format?: keyof typeof KeyFormat): OpCall<FetchedKey> {
  return {
    operation: Operation.Get,
    name: 'Get',
    payload: encodeGetRequest({
      ...(uid === undefined ? {} : { uniqueIdentifier: uid }),
      ...(format === undefined ? {} : { keyFormatType: KeyFormat[format] }),
    }),
    decode: (p) => {
      const r = decodeGetResponse(p);
      const k = r.symmetricKey;
      return {
        uniqueIdentifier: r.uniqueIdentifier,
        objectType: r.objectType,
        formatType: k.formatType,
        algorithm: k.algorithm,
        length: k.length ?? k.material.length * 8,
        material: k.material,
      };
    },
  };
}
