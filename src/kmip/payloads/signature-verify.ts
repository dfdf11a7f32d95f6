import { Tag } from '../tags.js';
import { ttlv, type TtlvItem } from '../ttlv/index.js';
import { encodeCryptographicParameters, optionalCryptographicParameters, type CryptographicParameters } from './crypto-parameters.js';
import { definedFields } from './defined-fields.js';
import { optionalUid, payloadFields, requestPayload } from './payload.js';

/** Signature Verify (KMIP 1.4 §4.32); the answer is a VerifyResponse (mac-verify.ts). */
export interface SignatureVerifyRequest {
  readonly uniqueIdentifier?: string;
  readonly cryptographicParameters?: CryptographicParameters;
  readonly data?: Buffer;
  readonly digestedData?: Buffer;
  readonly signatureData?: Buffer;
  readonly correlationValue?: Buffer;
  readonly initIndicator?: boolean;
  readonly finalIndicator?: boolean;
}

export function encodeSignatureVerifyRequest(r: SignatureVerifyRequest): TtlvItem {
  return requestPayload([
    optionalUid(r.uniqueIdentifier),
    ttlv.opt(r.cryptographicParameters, (p) => encodeCryptographicParameters(p)),
    ttlv.opt(r.data, (v) => ttlv.bytes(Tag.Data, v)),
    ttlv.opt(r.digestedData, (v) => ttlv.bytes(Tag.DigestedData, v)),
    ttlv.opt(r.signatureData, (v) => ttlv.bytes(Tag.SignatureData, v)),
    ttlv.opt(r.correlationValue, (v) => ttlv.bytes(Tag.CorrelationValue, v)),
    ttlv.opt(r.initIndicator, (v) => ttlv.bool(Tag.InitIndicator, v)),
    ttlv.opt(r.finalIndicator, (v) => ttlv.bool(Tag.FinalIndicator, v)),
  ]);
}

export function decodeSignatureVerifyRequest(item: TtlvItem | undefined): SignatureVerifyRequest {
  const f = payloadFields(item);
  return definedFields({
    uniqueIdentifier: f.optional(Tag.UniqueIdentifier, 'TextString'),
    cryptographicParameters: optionalCryptographicParameters(f),
    data: f.optional(Tag.Data, 'ByteString'),
    digestedData: f.optional(Tag.DigestedData, 'ByteString'),
    signatureData: f.optional(Tag.SignatureData, 'ByteString'),
    correlationValue: f.optional(Tag.CorrelationValue, 'ByteString'),
    initIndicator: f.optional(Tag.InitIndicator, 'Boolean'),
    finalIndicator: f.optional(Tag.FinalIndicator, 'Boolean'),
  });
}
