import { KmipError } from '../errors.js';
import { Tag } from '../tags.js';
import { Fields, ttlv, type TtlvItem } from '../ttlv/index.js';
import { decodeCryptographicParameters, encodeCryptographicParameters, type CryptographicParameters } from './crypto-parameters.js';
import { definedFields } from './defined-fields.js';

/** Encryption Key Information / MAC/Signature Key Information (KMIP 1.4 §2.1.5). */
export interface KeyInformation {
  readonly uniqueIdentifier: string;
  readonly cryptographicParameters?: CryptographicParameters;
}

/** Key Wrapping Specification (KMIP 1.4 §2.1.6): how Get should wrap the key block it returns. */
export interface KeyWrappingSpecification {
  readonly wrappingMethod: number;
  readonly encryptionKeyInformation?: KeyInformation;
  readonly macSignatureKeyInformation?: KeyInformation;
  readonly attributeNames: readonly string[];
  readonly encodingOption?: number;
}

/** Key Wrapping Data (KMIP 1.4 §2.1.5): how a key block's Key Value was wrapped. */
export interface KeyWrappingData {
  readonly wrappingMethod: number;
  readonly encryptionKeyInformation?: KeyInformation;
  readonly macSignatureKeyInformation?: KeyInformation;
  readonly macSignature?: Buffer;
  readonly ivCounterNonce?: Buffer;
  readonly encodingOption?: number;
}

const MAX_ATTRIBUTE_NAMES = 64;

function encodeKeyInformation(tag: number, k: KeyInformation | undefined): TtlvItem | undefined {
  if (k === undefined) return undefined;
  return ttlv.struct(tag, [ttlv.text(Tag.UniqueIdentifier, k.uniqueIdentifier), ttlv.opt(k.cryptographicParameters, (p) => encodeCryptographicParameters(p))]);
}

function decodeKeyInformation(f: Fields, tag: number): KeyInformation | undefined {
  const s = f.struct(tag);
  if (s === undefined) return undefined;
  const p = s.item(Tag.CryptographicParameters);
  return { uniqueIdentifier: s.required(Tag.UniqueIdentifier, 'TextString'), ...(p === undefined ? {} : { cryptographicParameters: decodeCryptographicParameters(p) }) };
}

export function encodeKeyWrappingSpecification(s: KeyWrappingSpecification): TtlvItem {
  return ttlv.struct(Tag.KeyWrappingSpecification, [
    ttlv.enumeration(Tag.WrappingMethod, s.wrappingMethod),
    encodeKeyInformation(Tag.EncryptionKeyInformation, s.encryptionKeyInformation),
    encodeKeyInformation(Tag.MACSignatureKeyInformation, s.macSignatureKeyInformation),
    s.attributeNames.map((n) => ttlv.text(Tag.AttributeName, n)),
    ttlv.opt(s.encodingOption, (v) => ttlv.enumeration(Tag.EncodingOption, v)),
  ]);
}

export function decodeKeyWrappingSpecification(item: TtlvItem): KeyWrappingSpecification {
  const f = new Fields(item, Tag.KeyWrappingSpecification);
  const attributeNames = f.all(Tag.AttributeName, 'TextString');
  if (attributeNames.length > MAX_ATTRIBUTE_NAMES) throw new KmipError('KMIP_INVALID_FIELD', `more than ${MAX_ATTRIBUTE_NAMES} Attribute Names`);
  return definedFields({
    wrappingMethod: f.required(Tag.WrappingMethod, 'Enumeration'),
    encryptionKeyInformation: decodeKeyInformation(f, Tag.EncryptionKeyInformation),
    macSignatureKeyInformation: decodeKeyInformation(f, Tag.MACSignatureKeyInformation),
    attributeNames,
    encodingOption: f.optional(Tag.EncodingOption, 'Enumeration'),
  });
}

export function encodeKeyWrappingData(d: KeyWrappingData): TtlvItem {
  return ttlv.struct(Tag.KeyWrappingData, [
    ttlv.enumeration(Tag.WrappingMethod, d.wrappingMethod),
    encodeKeyInformation(Tag.EncryptionKeyInformation, d.encryptionKeyInformation),
    encodeKeyInformation(Tag.MACSignatureKeyInformation, d.macSignatureKeyInformation),
    ttlv.opt(d.macSignature, (v) => ttlv.bytes(Tag.MACSignature, v)),
    ttlv.opt(d.ivCounterNonce, (v) => ttlv.bytes(Tag.IVCounterNonce, v)),
    ttlv.opt(d.encodingOption, (v) => ttlv.enumeration(Tag.EncodingOption, v)),
  ]);
}

export function decodeKeyWrappingData(item: TtlvItem): KeyWrappingData {
  const f = new Fields(item, Tag.KeyWrappingData);
  return definedFields({
    wrappingMethod: f.required(Tag.WrappingMethod, 'Enumeration'),
    encryptionKeyInformation: decodeKeyInformation(f, Tag.EncryptionKeyInformation),
    macSignatureKeyInformation: decodeKeyInformation(f, Tag.MACSignatureKeyInformation),
    macSignature: f.optional(Tag.MACSignature, 'ByteString'),
    ivCounterNonce: f.optional(Tag.IVCounterNonce, 'ByteString'),
    encodingOption: f.optional(Tag.EncodingOption, 'Enumeration'),
  });
}
