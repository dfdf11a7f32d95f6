import { ObjectType } from '../enums.js';
import { Tag } from '../tags.js';
import { Fields, ttlv, type TtlvItem } from '../ttlv/index.js';
import { decodeKeyBlock, encodeKeyBlock, type KeyBlock } from './key-block.js';

/**
 * A Public Key or Private Key object (KMIP 1.4 §2.2.3, §2.2.4): one Key Block. A private key's
 * material is secret: the caller zeroes it (wipeKeyMaterial) when done.
 */
export interface AsymmetricKey {
  readonly keyBlock: KeyBlock;
}

const tagOf = (objectType: typeof ObjectType.PublicKey | typeof ObjectType.PrivateKey): number =>
  objectType === ObjectType.PublicKey ? Tag.PublicKey : Tag.PrivateKey;

export function encodeAsymmetricKey(objectType: typeof ObjectType.PublicKey | typeof ObjectType.PrivateKey, k: AsymmetricKey): TtlvItem {
  return ttlv.struct(tagOf(objectType), [encodeKeyBlock(k.keyBlock)]);
}

export function decodeAsymmetricKey(objectType: typeof ObjectType.PublicKey | typeof ObjectType.PrivateKey, item: TtlvItem): AsymmetricKey {
  return { keyBlock: decodeKeyBlock(new Fields(item, tagOf(objectType))) };
}
