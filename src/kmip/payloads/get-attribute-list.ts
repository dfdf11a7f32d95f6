import { Tag } from '../tags.js';
import { ttlv, type TtlvItem } from '../ttlv/index.js';
import { optionalUid, payloadFields, requestPayload, responsePayload } from './payload.js';

/** Get Attribute List (KMIP 1.4 §4.13). */
export interface GetAttributeListRequest {
  readonly uniqueIdentifier?: string;
}

export interface GetAttributeListResponse {
  readonly uniqueIdentifier: string;
  readonly attributeNames: readonly string[];
}

export function encodeGetAttributeListRequest(r: GetAttributeListRequest): TtlvItem {
  return requestPayload([optionalUid(r.uniqueIdentifier)]);
}

export function decodeGetAttributeListRequest(item: TtlvItem | undefined): GetAttributeListRequest {
  const uid = payloadFields(item).optional(Tag.UniqueIdentifier, 'TextString');
  return uid === undefined ? {} : { uniqueIdentifier: uid };
}

export function encodeGetAttributeListResponse(r: GetAttributeListResponse): TtlvItem {
  return responsePayload([
    ttlv.text(Tag.UniqueIdentifier, r.uniqueIdentifier),
    r.attributeNames.map((n) => ttlv.text(Tag.AttributeName, n)),
  ]);
}

export function decodeGetAttributeListResponse(item: TtlvItem | undefined): GetAttributeListResponse {
  const f = payloadFields(item);
  return {
    uniqueIdentifier: f.required(Tag.UniqueIdentifier, 'TextString'),
    attributeNames: f.all(Tag.AttributeName, 'TextString'),
  };
}
