import { Tag } from '../tags.js';
import { ttlv, type TtlvItem } from '../ttlv/index.js';
import { encodeCryptographicParameters, optionalCryptographicParameters, type CryptographicParameters } from './crypto-parameters.js';
import { definedFields } from './defined-fields.js';
import { optionalUid, payloadFields, requestPayload, responsePayload } from './payload.js';

/** Sign (KMIP 1.4 §4.31). Streaming fields are decoded so the server can refuse them. */
export interface SignRequest {
  readonly uniqueIdentifier?: string;
  readonly cryptographicParameters?: CryptographicParameters;
  readonly data?: Buffer;
  readonly digestedData?: Buffer;
  readonly correlationValue?: Buffer;
  readonly initIndicator?: boolean;
  readonly finalIndicator?: boolean;
}

export interface SignResponse {
  readonly uniqueIdentifier: string;
  readonly signatureData?: Buffer;
}

export function encodeSignRequest(r: SignRequest): TtlvItem {
  return requestPayload([
    optionalUid(r.uniqueIdentifier),
    ttlv.opt(r.cryptographicParameters, (p) => encodeCryptographicParameters(p)),
    ttlv.opt(r.data, (v) => ttlv.bytes(Tag.Data, v)),
    ttlv.opt(r.digestedData, (v) => ttlv.bytes(Tag.DigestedData, v)),
    ttlv.opt(r.correlationValue, (v) => ttlv.bytes(Tag.CorrelationValue, v)),
    ttlv.opt(r.initIndicator, (v) => ttlv.bool(Tag.InitIndicator, v)),
    ttlv.opt(r.finalIndicator, (v) => ttlv.bool(Tag.FinalIndicator, v)),
  ]);
}

export function decodeSignRequest(item: TtlvItem | undefined): SignRequest {
  const f = payloadFields(item);
  return definedFields({
    uniqueIdentifier: f.optional(Tag.UniqueIdentifier, 'TextString'),
    cryptographicParameters: optionalCryptographicParameters(f),
    data: f.optional(Tag.Data, 'ByteString'),
    digestedData: f.optional(Tag.DigestedData, 'ByteString'),
    correlationValue: f.optional(Tag.CorrelationValue, 'ByteString'),
    initIndicator: f.optional(Tag.InitIndicator, 'Boolean'),
    finalIndicator: f.optional(Tag.FinalIndicator, 'Boolean'),
  });
}

export function encodeSignResponse(r: SignResponse): TtlvItem {
  return responsePayload([ttlv.text(Tag.UniqueIdentifier, r.uniqueIdentifier), ttlv.opt(r.signatureData, (v) => ttlv.bytes(Tag.SignatureData, v))]);
}

export function decodeSignResponse(item: TtlvItem | undefined): SignResponse {
  const f = payloadFields(item);
  return definedFields({ uniqueIdentifier: f.required(Tag.UniqueIdentifier, 'TextString'), signatureData: f.optional(Tag.SignatureData, 'ByteString') });
}
