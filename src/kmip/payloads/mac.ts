import { Tag } from '../tags.js';
import { ttlv, type TtlvItem } from '../ttlv/index.js';
import { encodeCryptographicParameters, optionalCryptographicParameters, type CryptographicParameters } from './crypto-parameters.js';
import { definedFields } from './defined-fields.js';
import { optionalUid, payloadFields, requestPayload, responsePayload } from './payload.js';

/** MAC (KMIP 1.4 §4.33). Streaming fields are decoded so the server can refuse them. */
export interface MacRequest {
  readonly uniqueIdentifier?: string;
  readonly cryptographicParameters?: CryptographicParameters;
  readonly data?: Buffer;
  readonly correlationValue?: Buffer;
  readonly initIndicator?: boolean;
  readonly finalIndicator?: boolean;
}

export interface MacResponse {
  readonly uniqueIdentifier: string;
  readonly macData?: Buffer;
}

export function encodeMacRequest(r: MacRequest): TtlvItem {
  return requestPayload([
    optionalUid(r.uniqueIdentifier),
    ttlv.opt(r.cryptographicParameters, (p) => encodeCryptographicParameters(p)),
    ttlv.opt(r.data, (v) => ttlv.bytes(Tag.Data, v)),
    ttlv.opt(r.correlationValue, (v) => ttlv.bytes(Tag.CorrelationValue, v)),
    ttlv.opt(r.initIndicator, (v) => ttlv.bool(Tag.InitIndicator, v)),
    ttlv.opt(r.finalIndicator, (v) => ttlv.bool(Tag.FinalIndicator, v)),
  ]);
}

export function decodeMacRequest(item: TtlvItem | undefined): MacRequest {
  const f = payloadFields(item);
  return definedFields({
    uniqueIdentifier: f.optional(Tag.UniqueIdentifier, 'TextString'),
    cryptographicParameters: optionalCryptographicParameters(f),
    data: f.optional(Tag.Data, 'ByteString'),
    correlationValue: f.optional(Tag.CorrelationValue, 'ByteString'),
    initIndicator: f.optional(Tag.InitIndicator, 'Boolean'),
    finalIndicator: f.optional(Tag.FinalIndicator, 'Boolean'),
  });
}

export function encodeMacResponse(r: MacResponse): TtlvItem {
  return responsePayload([ttlv.text(Tag.UniqueIdentifier, r.uniqueIdentifier), ttlv.opt(r.macData, (v) => ttlv.bytes(Tag.MACData, v))]);
}

export function decodeMacResponse(item: TtlvItem | undefined): MacResponse {
  const f = payloadFields(item);
  return definedFields({ uniqueIdentifier: f.required(Tag.UniqueIdentifier, 'TextString'), macData: f.optional(Tag.MACData, 'ByteString') });
}
