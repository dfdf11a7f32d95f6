import { Tag } from '../tags.js';
import { ttlv, type TtlvItem } from '../ttlv/index.js';
import { definedFields } from './defined-fields.js';
import { encodeCryptographicParameters, optionalCryptographicParameters, type CryptographicParameters } from './crypto-parameters.js';
import { optionalUid, payloadFields, requestPayload, responsePayload } from './payload.js';

/**
 * Encrypt (KMIP 1.4 §4.29). `data` is the client's plaintext: secret, zeroed with the request.
 * Correlation Value / Init / Final Indicator (streaming, §4.29) are decoded so a server can refuse them.
 */
export interface EncryptRequest {
  readonly uniqueIdentifier?: string;
  readonly cryptographicParameters?: CryptographicParameters;
  readonly data?: Buffer;
  readonly ivCounterNonce?: Buffer;
  readonly correlationValue?: Buffer;
  readonly initIndicator?: boolean;
  readonly finalIndicator?: boolean;
  readonly authenticatedEncryptionAdditionalData?: Buffer;
}

export interface EncryptResponse {
  readonly uniqueIdentifier: string;
  readonly data?: Buffer;
  readonly ivCounterNonce?: Buffer;
  readonly correlationValue?: Buffer;
  readonly authenticatedEncryptionTag?: Buffer;
}

export function encodeEncryptRequest(r: EncryptRequest): TtlvItem {
  return requestPayload([
    optionalUid(r.uniqueIdentifier),
    ttlv.opt(r.cryptographicParameters, (p) => encodeCryptographicParameters(p)),
    ttlv.opt(r.data, (v) => ttlv.bytes(Tag.Data, v)),
    ttlv.opt(r.ivCounterNonce, (v) => ttlv.bytes(Tag.IVCounterNonce, v)),
    ttlv.opt(r.correlationValue, (v) => ttlv.bytes(Tag.CorrelationValue, v)),
    ttlv.opt(r.initIndicator, (v) => ttlv.bool(Tag.InitIndicator, v)),
    ttlv.opt(r.finalIndicator, (v) => ttlv.bool(Tag.FinalIndicator, v)),
    ttlv.opt(r.authenticatedEncryptionAdditionalData, (v) => ttlv.bytes(Tag.AuthenticatedEncryptionAdditionalData, v)),
  ]);
}

export function decodeEncryptRequest(item: TtlvItem | undefined): EncryptRequest {
  const f = payloadFields(item);
  return definedFields({
    uniqueIdentifier: f.optional(Tag.UniqueIdentifier, 'TextString'),
    cryptographicParameters: optionalCryptographicParameters(f),
    data: f.optional(Tag.Data, 'ByteString'),
    ivCounterNonce: f.optional(Tag.IVCounterNonce, 'ByteString'),
    correlationValue: f.optional(Tag.CorrelationValue, 'ByteString'),
    initIndicator: f.optional(Tag.InitIndicator, 'Boolean'),
    finalIndicator: f.optional(Tag.FinalIndicator, 'Boolean'),
    authenticatedEncryptionAdditionalData: f.optional(Tag.AuthenticatedEncryptionAdditionalData, 'ByteString'),
  });
}

export function encodeEncryptResponse(r: EncryptResponse): TtlvItem {
  return responsePayload([
    ttlv.text(Tag.UniqueIdentifier, r.uniqueIdentifier),
    ttlv.opt(r.data, (v) => ttlv.bytes(Tag.Data, v)),
    ttlv.opt(r.ivCounterNonce, (v) => ttlv.bytes(Tag.IVCounterNonce, v)),
    ttlv.opt(r.correlationValue, (v) => ttlv.bytes(Tag.CorrelationValue, v)),
    ttlv.opt(r.authenticatedEncryptionTag, (v) => ttlv.bytes(Tag.AuthenticatedEncryptionTag, v)),
  ]);
}

export function decodeEncryptResponse(item: TtlvItem | undefined): EncryptResponse {
  const f = payloadFields(item);
  return definedFields({
    uniqueIdentifier: f.required(Tag.UniqueIdentifier, 'TextString'),
    data: f.optional(Tag.Data, 'ByteString'),
    ivCounterNonce: f.optional(Tag.IVCounterNonce, 'ByteString'),
    correlationValue: f.optional(Tag.CorrelationValue, 'ByteString'),
    authenticatedEncryptionTag: f.optional(Tag.AuthenticatedEncryptionTag, 'ByteString'),
  });
}
