import { KmipError } from '../errors.js';
import { ObjectType } from '../enums.js';
import { decodeObjectContent, encodeObjectContent, supportedObjectTypes, type ObjectContent } from '../objects/object-content.js';
import { decodeSymmetricKey, type SymmetricKey } from '../objects/symmetric-key.js';
import { Tag } from '../tags.js';
import { ttlv, type TtlvItem } from '../ttlv/index.js';
import { optionalUid, payloadFields, requestPayload, responsePayload } from './payload.js';

/** Get (KMIP 1.4 §4.11). */
export interface GetRequest {
  readonly uniqueIdentifier?: string;
  readonly keyFormatType?: number;
  readonly keyCompressionType?: number;
  /** Kept raw: vmcrypt refuses key wrapping on Get. */
  readonly keyWrappingSpecification?: TtlvItem;
}

/** `symmetricKey.material` is secret: zero it once sent/used. */
export interface GetResponse {
  readonly objectType: number;
  readonly uniqueIdentifier: string;
  readonly symmetricKey: SymmetricKey;
}

export function encodeGetRequest(r: GetRequest): TtlvItem {
  return requestPayload([
    optionalUid(r.uniqueIdentifier),
    ttlv.opt(r.keyFormatType, (v) => ttlv.enumeration(Tag.KeyFormatType, v)),
    ttlv.opt(r.keyCompressionType, (v) => ttlv.enumeration(Tag.KeyCompressionType, v)),
    r.keyWrappingSpecification,
  ]);
}

export function decodeGetRequest(item: TtlvItem | undefined): GetRequest {
  const f = payloadFields(item);
  const uid = f.optional(Tag.UniqueIdentifier, 'TextString');
  const kft = f.optional(Tag.KeyFormatType, 'Enumeration');
  const kct = f.optional(Tag.KeyCompressionType, 'Enumeration');
  const kws = f.item(Tag.KeyWrappingSpecification);
  return {
    ...(uid === undefined ? {} : { uniqueIdentifier: uid }),
    ...(kft === undefined ? {} : { keyFormatType: kft }),
    ...(kct === undefined ? {} : { keyCompressionType: kct }),
    ...(kws === undefined ? {} : { keyWrappingSpecification: kws }),
  };
}

/** Get answer for any supported object; its bytes are secret. */
export interface GetObjectResponse {
  readonly uniqueIdentifier: string;
  readonly content: ObjectContent;
}

export function encodeGetObjectResponse(r: GetObjectResponse): TtlvItem {
  return responsePayload([
    ttlv.enumeration(Tag.ObjectType, r.content.objectType),
    ttlv.text(Tag.UniqueIdentifier, r.uniqueIdentifier),
    encodeObjectContent(r.content),
  ]);
}

export function decodeGetObjectResponse(item: TtlvItem | undefined): GetObjectResponse {
  const f = payloadFields(item);
  const objectType = f.required(Tag.ObjectType, 'Enumeration');
  if (!supportedObjectTypes.includes(objectType)) throw new KmipError('KMIP_FEATURE_NOT_SUPPORTED', `object type ${objectType} is not supported`);
  return {
    uniqueIdentifier: f.required(Tag.UniqueIdentifier, 'TextString'),
    content: decodeObjectContent(objectType, (tag) => f.item(tag)),
  };
}

export function encodeGetResponse(r: GetResponse): TtlvItem {
  return encodeGetObjectResponse({ uniqueIdentifier: r.uniqueIdentifier, content: { objectType: ObjectType.SymmetricKey, symmetricKey: r.symmetricKey } });
}

export function decodeGetResponse(item: TtlvItem | undefined): GetResponse {
  const f = payloadFields(item);
  const key = f.item(Tag.SymmetricKey);
  if (key === undefined) throw new KmipError('KMIP_FEATURE_NOT_SUPPORTED', 'Get response carries no Symmetric Key');
  return {
    objectType: f.required(Tag.ObjectType, 'Enumeration'),
    uniqueIdentifier: f.required(Tag.UniqueIdentifier, 'TextString'),
    symmetricKey: decodeSymmetricKey(key),
  };
}
