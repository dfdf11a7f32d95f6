import { Tag } from '../tags.js';
import { ttlv, type TtlvItem } from '../ttlv/index.js';
import { definedFields } from './defined-fields.js';
import { payloadFields, requestPayload, responsePayload } from './payload.js';

/** RNG Retrieve (KMIP 1.4 §4.35): Data Length random bytes from the server's generator. */
export interface RngRetrieveRequest {
  readonly dataLength: number;
}

export interface RngRetrieveResponse {
  readonly data?: Buffer;
}

export function encodeRngRetrieveRequest(r: RngRetrieveRequest): TtlvItem {
  return requestPayload([ttlv.int(Tag.DataLength, r.dataLength)]);
}

export function decodeRngRetrieveRequest(item: TtlvItem | undefined): RngRetrieveRequest {
  return { dataLength: payloadFields(item).required(Tag.DataLength, 'Integer') };
}

export function encodeRngRetrieveResponse(r: RngRetrieveResponse): TtlvItem {
  return responsePayload([ttlv.opt(r.data, (v) => ttlv.bytes(Tag.Data, v))]);
}

export function decodeRngRetrieveResponse(item: TtlvItem | undefined): RngRetrieveResponse {
  return definedFields({ data: payloadFields(item).optional(Tag.Data, 'ByteString') });
}
