import { Tag } from '../tags.js';
import { ttlv, type TtlvItem } from '../ttlv/index.js';
import { payloadFields, requestPayload, responsePayload } from './payload.js';

/** RNG Seed (KMIP 1.4 §4.36): seed Data offered to the server's generator; it answers how much it took. */
export interface RngSeedRequest {
  readonly data: Buffer;
}

export interface RngSeedResponse {
  readonly dataLength: number;
}

export function encodeRngSeedRequest(r: RngSeedRequest): TtlvItem {
  return requestPayload([ttlv.bytes(Tag.Data, r.data)]);
}

export function decodeRngSeedRequest(item: TtlvItem | undefined): RngSeedRequest {
  return { data: payloadFields(item).required(Tag.Data, 'ByteString') };
}

export function encodeRngSeedResponse(r: RngSeedResponse): TtlvItem {
  return responsePayload([ttlv.int(Tag.DataLength, r.dataLength)]);
}

export function decodeRngSeedResponse(item: TtlvItem | undefined): RngSeedResponse {
  return { dataLength: payloadFields(item).required(Tag.DataLength, 'Integer') };
}
