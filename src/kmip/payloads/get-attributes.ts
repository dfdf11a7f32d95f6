import { decodeAttribute, encodeAttribute, type Attribute } from '../attributes.js';
import { Tag } from '../tags.js';
import { ttlv, type TtlvItem } from '../ttlv/index.js';
import { optionalUid, payloadFields, requestPayload, responsePayload } from './payload.js';

/** Get Attributes (KMIP 1.4 §4.12). No names = every attribute. */
export interface GetAttributesRequest {
  readonly uniqueIdentifier?: string;
  readonly attributeNames: readonly string[];
}

export interface GetAttributesResponse {
  readonly uniqueIdentifier: string;
  readonly attributes: readonly Attribute[];
}

export function encodeGetAttributesRequest(r: GetAttributesRequest): TtlvItem {
  return requestPayload([optionalUid(r.uniqueIdentifier), r.attributeNames.map((n) => ttlv.text(Tag.AttributeName, n))]);
}

export function decodeGetAttributesRequest(item: TtlvItem | undefined): GetAttributesRequest {
  const f = payloadFields(item);
  const uid = f.optional(Tag.UniqueIdentifier, 'TextString');
  return { ...(uid === undefined ? {} : { uniqueIdentifier: uid }), attributeNames: f.all(Tag.AttributeName, 'TextString') };
}

export function encodeGetAttributesResponse(r: GetAttributesResponse): TtlvItem {
  return responsePayload([ttlv.text(Tag.UniqueIdentifier, r.uniqueIdentifier), r.attributes.map(encodeAttribute)]);
}

export function decodeGetAttributesResponse(item: TtlvItem | undefined): GetAttributesResponse {
  const f = payloadFields(item);
  return {
    uniqueIdentifier: f.required(Tag.UniqueIdentifier, 'TextString'),
    attributes: f.items.filter((i) => i.tag === Tag.Attribute).map(decodeAttribute),
  };
}
