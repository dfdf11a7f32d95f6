import { Tag } from '../tags.js';
import { ttlv, type TtlvItem } from '../ttlv/index.js';
import { encodeCryptographicParameters, optionalCryptographicParameters, type CryptographicParameters } from './crypto-parameters.js';
import { definedFields } from './defined-fields.js';
import { optionalUid, payloadFields, requestPayload, responsePayload } from './payload.js';

/** MAC Verify (KMIP 1.4 §4.34). */
export interface MacVerifyRequest {
  readonly uniqueIdentifier?: string;
  readonly cryptographicParameters?: CryptographicParameters;
  readonly data?: Buffer;
  readonly macData?: Buffer;
  readonly correlationValue?: Buffer;
  readonly initIndicator?: boolean;
  readonly finalIndicator?: boolean;
}

/** `validityIndicator`: ValidityIndicator (Valid, Invalid, Unknown). */
export interface VerifyResponse {
  readonly uniqueIdentifier: string;
  readonly validityIndicator: number;
}

export function encodeMacVerifyRequest(r: MacVerifyRequest): TtlvItem {
  return requestPayload([
    optionalUid(r.uniqueIdentifier),
    ttlv.opt(r.cryptographicParameters, (p) => encodeCryptographicParameters(p)),
    ttlv.opt(r.data, (v) => ttlv.bytes(Tag.Data, v)),
    ttlv.opt(r.macData, (v) => ttlv.bytes(Tag.MACData, v)),
    ttlv.opt(r.correlationValue, (v) => ttlv.bytes(Tag.CorrelationValue, v)),
    ttlv.opt(r.initIndicator, (v) => ttlv.bool(Tag.InitIndicator, v)),
    ttlv.opt(r.finalIndicator, (v) => ttlv.bool(Tag.FinalIndicator, v)),
  ]);
}

export function decodeMacVerifyRequest(item: TtlvItem | undefined): MacVerifyRequest {
  const f = payloadFields(item);
  return definedFields({
    uniqueIdentifier: f.optional(Tag.UniqueIdentifier, 'TextString'),
    cryptographicParameters: optionalCryptographicParameters(f),
    data: f.optional(Tag.Data, 'ByteString'),
    macData: f.optional(Tag.MACData, 'ByteString'),
    correlationValue: f.optional(Tag.CorrelationValue, 'ByteString'),
    initIndicator: f.optional(Tag.InitIndicator, 'Boolean'),
    finalIndicator: f.optional(Tag.FinalIndicator, 'Boolean'),
  });
}

/** The answer of MAC Verify and Signature Verify (§4.32, §4.34). */
export function encodeVerifyResponse(r: VerifyResponse): TtlvItem {
  return responsePayload([ttlv.text(Tag.UniqueIdentifier, r.uniqueIdentifier), ttlv.enumeration(Tag.ValidityIndicator, r.validityIndicator)]);
}

export function decodeVerifyResponse(item: TtlvItem | undefined): VerifyResponse {
  const f = payloadFields(item);
  return { uniqueIdentifier: f.required(Tag.UniqueIdentifier, 'TextString'), validityIndicator: f.required(Tag.ValidityIndicator, 'Enumeration') };
}
