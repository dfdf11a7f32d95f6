import { Tag } from '../tags.js';
import { ttlv, type TtlvItem } from '../ttlv/index.js';
import { encodeCryptographicParameters, optionalCryptographicParameters, type CryptographicParameters } from './crypto-parameters.js';
import { definedFields } from './defined-fields.js';
import { payloadFields, requestPayload, responsePayload } from './payload.js';

/** Hash (KMIP 1.4 §4.38): a digest of the Data with the Hashing Algorithm of the parameters. */
export interface HashRequest {
  readonly cryptographicParameters?: CryptographicParameters;
  readonly data?: Buffer;
  readonly correlationValue?: Buffer;
  readonly initIndicator?: boolean;
  readonly finalIndicator?: boolean;
}

export interface HashResponse {
  readonly data?: Buffer;
}

export function encodeHashRequest(r: HashRequest): TtlvItem {
  return requestPayload([
    ttlv.opt(r.cryptographicParameters, (p) => encodeCryptographicParameters(p)),
    ttlv.opt(r.data, (v) => ttlv.bytes(Tag.Data, v)),
    ttlv.opt(r.correlationValue, (v) => ttlv.bytes(Tag.CorrelationValue, v)),
    ttlv.opt(r.initIndicator, (v) => ttlv.bool(Tag.InitIndicator, v)),
    ttlv.opt(r.finalIndicator, (v) => ttlv.bool(Tag.FinalIndicator, v)),
  ]);
}

export function decodeHashRequest(item: TtlvItem | undefined): HashRequest {
  const f = payloadFields(item);
  return definedFields({
    cryptographicParameters: optionalCryptographicParameters(f),
    data: f.optional(Tag.Data, 'ByteString'),
    correlationValue: f.optional(Tag.CorrelationValue, 'ByteString'),
    initIndicator: f.optional(Tag.InitIndicator, 'Boolean'),
    finalIndicator: f.optional(Tag.FinalIndicator, 'Boolean'),
  });
}

export function encodeHashResponse(r: HashResponse): TtlvItem {
  return responsePayload([ttlv.opt(r.data, (v) => ttlv.bytes(Tag.Data, v))]);
}

export function decodeHashResponse(item: TtlvItem | undefined): HashResponse {
  return definedFields({ data: payloadFields(item).optional(Tag.Data, 'ByteString') });
}
