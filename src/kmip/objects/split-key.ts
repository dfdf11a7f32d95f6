import { SplitKeyMethod } from '../enums.js';
import { KmipError } from '../errors.js';
import { Tag } from '../tags.js';
import { Fields, ttlv, type TtlvItem } from '../ttlv/index.js';
import { decodeKeyBlock, encodeKeyBlock, wipeKeyMaterial, type KeyBlock } from './key-block.js';

/** Most parts a key may be split into (KMIP sets no bound; GF(2^8) sharing allows 255). */
export const MAX_SPLIT_KEY_PARTS = 255;

/**
 * A Split Key object (KMIP 1.4 §2.2.5): one part of a key split into Split Key Parts, any
 * Split Key Threshold of which rebuild it. The key block's material is secret.
 */
export interface SplitKey {
  readonly parts: number;
  readonly keyPartIdentifier: number;
  readonly threshold: number;
  readonly method: number;
  /** Big-endian two's-complement bytes; required by Polynomial Sharing Prime Field (§2.2.5). */
  readonly primeFieldSize?: Buffer;
  readonly keyBlock: KeyBlock;
}

export function encodeSplitKey(s: SplitKey): TtlvItem {
  return ttlv.struct(Tag.SplitKey, [
    ttlv.int(Tag.SplitKeyParts, s.parts),
    ttlv.int(Tag.KeyPartIdentifier, s.keyPartIdentifier),
    ttlv.int(Tag.SplitKeyThreshold, s.threshold),
    ttlv.enumeration(Tag.SplitKeyMethod, s.method),
    ttlv.opt(s.primeFieldSize, (p) => ttlv.bigInt(Tag.PrimeFieldSize, p)),
    encodeKeyBlock(s.keyBlock),
  ]);
}

const methods = new Set<number>(Object.values(SplitKeyMethod));

export function decodeSplitKey(item: TtlvItem): SplitKey {
  const f = new Fields(item, Tag.SplitKey);
  const parts = f.required(Tag.SplitKeyParts, 'Integer');
  const keyPartIdentifier = f.required(Tag.KeyPartIdentifier, 'Integer');
  const threshold = f.required(Tag.SplitKeyThreshold, 'Integer');
  const method = f.required(Tag.SplitKeyMethod, 'Enumeration');
  const primeFieldSize = f.optional(Tag.PrimeFieldSize, 'BigInteger');
  if (parts < 1 || parts > MAX_SPLIT_KEY_PARTS) throw new KmipError('KMIP_INVALID_FIELD', `Split Key Parts must be 1 to ${MAX_SPLIT_KEY_PARTS}`);
  if (threshold < 1 || threshold > parts) throw new KmipError('KMIP_INVALID_FIELD', 'Split Key Threshold must be 1 to Split Key Parts');
  if (keyPartIdentifier < 1 || keyPartIdentifier > parts) throw new KmipError('KMIP_INVALID_FIELD', 'Key Part Identifier must be 1 to Split Key Parts');
  if (!methods.has(method)) throw new KmipError('KMIP_INVALID_FIELD', `Split Key Method ${method} is not defined`);
  if (method === SplitKeyMethod.PolynomialSharingPrimeField && primeFieldSize === undefined) {
    throw new KmipError('KMIP_MISSING_FIELD', 'Polynomial Sharing Prime Field needs a Prime Field Size');
  }
  if (primeFieldSize !== undefined && primeFieldSize.length > 1024) throw new KmipError('KMIP_INVALID_FIELD', 'Prime Field Size too large');
  const keyBlock = decodeKeyBlock(f);
  if (!('bytes' in keyBlock.material)) {
    wipeKeyMaterial(keyBlock.material);
    throw new KmipError('KMIP_KEY_FORMAT_NOT_SUPPORTED', 'a split key part is kept in an encoded format (Raw, Opaque), not a Transparent one');
  }
  return { parts, keyPartIdentifier, threshold, method, ...(primeFieldSize === undefined ? {} : { primeFieldSize }), keyBlock };
}
