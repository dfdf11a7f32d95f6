import { Tag } from '../tags.js';
import { Fields, ttlv, type TtlvItem } from '../ttlv/index.js';

/**
 * Cryptographic Parameters (KMIP 1.4 §3.6): how a key is used by Encrypt/Decrypt, Sign, MAC,
 * Derive Key and key wrapping. Every field is optional; lengths are in bits except Tag Length
 * (bytes), as the specification defines them.
 */
export interface CryptographicParameters {
  readonly blockCipherMode?: number;
  readonly paddingMethod?: number;
  readonly hashingAlgorithm?: number;
  readonly keyRoleType?: number;
  readonly digitalSignatureAlgorithm?: number;
  readonly cryptographicAlgorithm?: number;
  readonly randomIv?: boolean;
  readonly ivLength?: number;
  readonly tagLength?: number;
  readonly fixedFieldLength?: number;
  readonly invocationFieldLength?: number;
  readonly counterLength?: number;
  readonly initialCounterValue?: number;
  readonly saltLength?: number;
  readonly maskGenerator?: number;
  readonly maskGeneratorHashingAlgorithm?: number;
  readonly pSource?: Buffer;
  readonly trailerField?: number;
}

const enums = [
  ['blockCipherMode', Tag.BlockCipherMode],
  ['paddingMethod', Tag.PaddingMethod],
  ['hashingAlgorithm', Tag.HashingAlgorithm],
  ['keyRoleType', Tag.KeyRoleType],
  ['digitalSignatureAlgorithm', Tag.DigitalSignatureAlgorithm],
  ['cryptographicAlgorithm', Tag.CryptographicAlgorithm],
  ['maskGenerator', Tag.MaskGenerator],
  ['maskGeneratorHashingAlgorithm', Tag.MaskGeneratorHashingAlgorithm],
] as const;

const ints = [
  ['ivLength', Tag.IVLength],
  ['tagLength', Tag.TagLength],
  ['fixedFieldLength', Tag.FixedFieldLength],
  ['invocationFieldLength', Tag.InvocationFieldLength],
  ['counterLength', Tag.CounterLength],
  ['initialCounterValue', Tag.InitialCounterValue],
  ['saltLength', Tag.SaltLength],
  ['trailerField', Tag.TrailerField],
] as const;

type Mutable = { -readonly [K in keyof CryptographicParameters]: CryptographicParameters[K] };

export function encodeCryptographicParameters(p: CryptographicParameters, tag: number = Tag.CryptographicParameters): TtlvItem {
  // KMIP 1.4 §2.1.6 orders the fields as listed; enumerations first then the 1.2 additions.
  return ttlv.struct(tag, [
    ...enums.slice(0, 6).map(([k, t]) => ttlv.opt(p[k], (v) => ttlv.enumeration(t, v))),
    ttlv.opt(p.randomIv, (v) => ttlv.bool(Tag.RandomIV, v)),
    ...ints.slice(0, 6).map(([k, t]) => ttlv.opt(p[k], (v) => ttlv.int(t, v))),
    ttlv.opt(p.saltLength, (v) => ttlv.int(Tag.SaltLength, v)),
    ...enums.slice(6).map(([k, t]) => ttlv.opt(p[k], (v) => ttlv.enumeration(t, v))),
    ttlv.opt(p.pSource, (v) => ttlv.bytes(Tag.PSource, v)),
    ttlv.opt(p.trailerField, (v) => ttlv.int(Tag.TrailerField, v)),
  ]);
}

/** Decodes a Cryptographic Parameters structure (also as an Attribute Value). */
export function decodeCryptographicParameters(item: TtlvItem): CryptographicParameters {
  const f = new Fields(item);
  const out: Mutable = {};
  for (const [k, t] of enums) {
    const v = f.optional(t, 'Enumeration');
    if (v !== undefined) out[k] = v;
  }
  for (const [k, t] of ints) {
    const v = f.optional(t, 'Integer');
    if (v !== undefined) out[k] = v;
  }
  const random = f.optional(Tag.RandomIV, 'Boolean');
  if (random !== undefined) out.randomIv = random;
  const pSource = f.optional(Tag.PSource, 'ByteString');
  if (pSource !== undefined) out.pSource = pSource;
  return out;
}

/** The optional Cryptographic Parameters of a payload. */
export function optionalCryptographicParameters(f: Fields): CryptographicParameters | undefined {
  const item = f.item(Tag.CryptographicParameters);
  return item === undefined ? undefined : decodeCryptographicParameters(item);
}
