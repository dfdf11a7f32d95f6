import { Tag } from '../tags.js';
import { ttlv, type TtlvItem } from '../ttlv/index.js';
import { optionalUid, payloadFields, requestPayload, responsePayload } from './payload.js';

/**
 * Payload of the operations whose request holds only an optional Unique Identifier and whose
 * response holds the Unique Identifier: Activate (§4.19) and Destroy (§4.21).
 */
export interface UidRequest {
  readonly uniqueIdentifier?: string;
}

export interface UidResponse {
  readonly uniqueIdentifier: string;
}

export function encodeUidRequest(r: UidRequest): TtlvItem {
  return requestPayload([optionalUid(r.uniqueIdentifier)]);
}

export function decodeUidRequest(item: TtlvItem | undefined): UidRequest {
  const uid = payloadFields(item).optional(Tag.UniqueIdentifier, 'TextString');
  return uid === undefined ? {} : { uniqueIdentifier: uid };
}

export function encodeUidResponse(r: UidResponse): TtlvItem {
  return responsePayload([ttlv.text(Tag.UniqueIdentifier, r.uniqueIdentifier)]);
}

export function decodeUidResponse(item: TtlvItem | undefined): UidResponse {
  return { uniqueIdentifier: payloadFields(item).required(Tag.UniqueIdentifier, 'TextString') };
}
