import { decodeTemplateAttribute, encodeTemplateAttribute, type TemplateAttribute } from '../attributes.js';
import { Tag } from '../tags.js';
import { ttlv, type TtlvItem } from '../ttlv/index.js';
import { encodeCryptographicParameters, optionalCryptographicParameters, type CryptographicParameters } from './crypto-parameters.js';
import { definedFields } from './defined-fields.js';
import { payloadFields, requestPayload, responsePayload } from './payload.js';

/** Derivation Parameters of Derive Key (KMIP 1.4 §4.6). */
export interface DerivationParameters {
  readonly cryptographicParameters?: CryptographicParameters;
  readonly initializationVector?: Buffer;
  readonly derivationData?: Buffer;
  readonly salt?: Buffer;
  readonly iterationCount?: number;
}

/** Derive Key (KMIP 1.4 §4.6): one or more base objects → a new Symmetric Key or Secret Data. */
export interface DeriveKeyRequest {
  readonly objectType: number;
  readonly uniqueIdentifiers: readonly string[];
  readonly derivationMethod: number;
  readonly derivationParameters: DerivationParameters;
  readonly templateAttribute: TemplateAttribute;
}

export interface DeriveKeyResponse {
  readonly uniqueIdentifier: string;
}

/** At most this many base objects in one Derive Key (bounded parsing; methods use one). */
export const MAX_DERIVATION_BASES = 16;

export function encodeDeriveKeyRequest(r: DeriveKeyRequest): TtlvItem {
  const p = r.derivationParameters;
  return requestPayload([
    ttlv.enumeration(Tag.ObjectType, r.objectType),
    r.uniqueIdentifiers.map((u) => ttlv.text(Tag.UniqueIdentifier, u)),
    ttlv.enumeration(Tag.DerivationMethod, r.derivationMethod),
    ttlv.struct(Tag.DerivationParameters, [
      ttlv.opt(p.cryptographicParameters, (c) => encodeCryptographicParameters(c)),
      ttlv.opt(p.initializationVector, (v) => ttlv.bytes(Tag.InitializationVector, v)),
      ttlv.opt(p.derivationData, (v) => ttlv.bytes(Tag.DerivationData, v)),
      ttlv.opt(p.salt, (v) => ttlv.bytes(Tag.Salt, v)),
      ttlv.opt(p.iterationCount, (v) => ttlv.int(Tag.IterationCount, v)),
    ]),
    encodeTemplateAttribute(r.templateAttribute),
  ]);
}

export function decodeDeriveKeyRequest(item: TtlvItem | undefined): DeriveKeyRequest {
  const f = payloadFields(item);
  const dp = f.requiredStruct(Tag.DerivationParameters);
  const ta = f.item(Tag.TemplateAttribute);
  return {
    objectType: f.required(Tag.ObjectType, 'Enumeration'),
    uniqueIdentifiers: f.all(Tag.UniqueIdentifier, 'TextString').slice(0, MAX_DERIVATION_BASES + 1),
    derivationMethod: f.required(Tag.DerivationMethod, 'Enumeration'),
    derivationParameters: definedFields({
      cryptographicParameters: optionalCryptographicParameters(dp),
      initializationVector: dp.optional(Tag.InitializationVector, 'ByteString'),
      derivationData: dp.optional(Tag.DerivationData, 'ByteString'),
      salt: dp.optional(Tag.Salt, 'ByteString'),
      iterationCount: dp.optional(Tag.IterationCount, 'Integer'),
    }),
    templateAttribute: ta === undefined ? { templateNames: [], attributes: [] } : decodeTemplateAttribute(ta),
  };
}

export function encodeDeriveKeyResponse(r: DeriveKeyResponse): TtlvItem {
  return responsePayload([ttlv.text(Tag.UniqueIdentifier, r.uniqueIdentifier)]);
}

export function decodeDeriveKeyResponse(item: TtlvItem | undefined): DeriveKeyResponse {
  return { uniqueIdentifier: payloadFields(item).required(Tag.UniqueIdentifier, 'TextString') };
}
