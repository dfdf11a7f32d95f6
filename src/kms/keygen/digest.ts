import { createHash, type KeyObject } from 'node:crypto';
import { AttributeName, type Attribute } from '../../kmip/attributes.js';
import { HashingAlgorithm, KeyFormatType as F, ObjectType } from '../../kmip/enums.js';
import { Tag } from '../../kmip/tags.js';
import { ttlv } from '../../kmip/ttlv/index.js';
import { exportKey, keyFacts, type AsymmetricObjectType } from './asymmetric-formats.js';

/**
 * The Digest attribute (KMIP 1.4 §3.17) the server sets on a key or certificate: SHA-256 of its
 * value in one stated Key Format Type. RSA keys are digested in PKCS#1 (as the OASIS AKLC test
 * cases show), EC private keys in PKCS#8, EC public keys in X.509; certificates over their DER.
 */
export function keyDigest(objectType: AsymmetricObjectType, key: KeyObject): Attribute {
  const format = keyFacts(key).family === 'rsa' ? F.PKCS1 : objectType === ObjectType.PrivateKey ? F.PKCS8 : F.X509;
  const material = exportKey(objectType, key, format);
  if (!('bytes' in material)) throw new TypeError('digest of an encoded key');
  try {
    return digestAttribute(material.bytes, format);
  } finally {
    material.bytes.fill(0);
  }
}

export function digestAttribute(value: Buffer, keyFormatType?: number): Attribute {
  return {
    name: AttributeName.Digest,
    value: ttlv.struct(Tag.AttributeValue, [
      ttlv.enumeration(Tag.HashingAlgorithm, HashingAlgorithm.SHA256),
      ttlv.bytes(Tag.DigestValue, createHash('sha256').update(value).digest()),
      ttlv.opt(keyFormatType, (f) => ttlv.enumeration(Tag.KeyFormatType, f)),
    ]),
  };
}
