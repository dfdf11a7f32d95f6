import { createECDH, createPrivateKey, createPublicKey, ECDH, type JsonWebKey, type KeyObject } from 'node:crypto';
import { KeyFormatType as F, ObjectType } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import type { KeyMaterial } from '../../kmip/objects/key-block.js';
import { Tag } from '../../kmip/tags.js';
import { Fields, ttlv, type TtlvItem } from '../../kmip/ttlv/index.js';
import { fromBigInteger, padTo, toBigInteger } from './big-integer.js';
import { curveByOpenssl, curveByRecommended, type Curve } from './curves.js';

/**
 * Public and private keys in the Key Format Types of KMIP 1.4 (§9.1.3.2.3, §2.1.7), converted
 * through Node's KeyObject (OpenSSL): PKCS#1, PKCS#8, X.509 SubjectPublicKeyInfo, SEC1 EC Private
 * Key and the Transparent RSA / EC structures. Transparent conversions pass through JWK, whose
 * base64url strings JavaScript cannot zero; the encoded (DER) forms are Buffers the caller zeroes.
 */
export type AsymmetricObjectType = typeof ObjectType.PublicKey | typeof ObjectType.PrivateKey;
export type KeyFamily = 'rsa' | 'ec';

const EC_PRIVATE_TRANSPARENT: readonly number[] = [F.TransparentECPrivateKey, F.TransparentECDSAPrivateKey, F.TransparentECDHPrivateKey];
const EC_PUBLIC_TRANSPARENT: readonly number[] = [F.TransparentECPublicKey, F.TransparentECDSAPublicKey, F.TransparentECDHPublicKey];

/** The formats a key of `family` can be given or returned in; the DER ones first. */
export function formatsFor(objectType: AsymmetricObjectType, family: KeyFamily): readonly number[] {
  if (objectType === ObjectType.PrivateKey) {
    return family === 'rsa' ? [F.PKCS1, F.PKCS8, F.TransparentRSAPrivateKey] : [F.PKCS8, F.ECPrivateKey, ...EC_PRIVATE_TRANSPARENT];
  }
  return family === 'rsa' ? [F.PKCS1, F.X509, F.TransparentRSAPublicKey] : [F.X509, ...EC_PUBLIC_TRANSPARENT];
}

/** The DER type Node reads and writes for an encoded format, if it is one. */
const derTypes = new Map<number, { private?: 'pkcs1' | 'pkcs8' | 'sec1'; public?: 'pkcs1' | 'spki' }>([
  [F.PKCS1, { private: 'pkcs1', public: 'pkcs1' }],
  [F.PKCS8, { private: 'pkcs8' }],
  [F.X509, { public: 'spki' }],
  [F.ECPrivateKey, { private: 'sec1' }],
]);

export const isDerFormat = (format: number): boolean => derTypes.has(format);

/** The key in `material` (format `format`); Invalid Field if it does not parse, Key Format Type Not Supported for other formats. */
export function parseKey(objectType: AsymmetricObjectType, format: number, material: KeyMaterial): KeyObject {
  const isPrivate = objectType === ObjectType.PrivateKey;
  const der = derTypes.get(format);
  try {
    if (der !== undefined) {
      const type = isPrivate ? der.private : der.public;
      if (type === undefined || !('bytes' in material)) throw unsupported(objectType, format);
      const spec = { key: material.bytes, format: 'der' as const, type };
      return isPrivate ? createPrivateKey(spec as Parameters<typeof createPrivateKey>[0]) : createPublicKey(spec as Parameters<typeof createPublicKey>[0]);
    }
    if ('bytes' in material) throw unsupported(objectType, format);
    const jwk = jwkFromTransparent(objectType, format, new Fields(ttlv.struct(Tag.KeyMaterial, material.fields)));
    return isPrivate ? createPrivateKey({ key: jwk, format: 'jwk' }) : createPublicKey({ key: jwk, format: 'jwk' });
  } catch (err) {
    if (err instanceof KmipError) throw err;
    throw new KmipError('KMIP_INVALID_FIELD', `the key does not parse in key format type ${format}`);
  }
}

/** A stored key from its DER (format PKCS#1, PKCS#8, X.509 or EC Private Key); General Failure if it does not parse. */
export function keyFromDer(objectType: AsymmetricObjectType, derFormat: number, der: Buffer): KeyObject {
  const types = derTypes.get(derFormat);
  const type = objectType === ObjectType.PrivateKey ? types?.private : types?.public;
  if (type === undefined) throw new KmipError('KMIP_GENERAL_FAILURE', 'stored key is corrupt');
  const spec = { key: der, format: 'der' as const, type };
  return objectType === ObjectType.PrivateKey ? createPrivateKey(spec as Parameters<typeof createPrivateKey>[0]) : createPublicKey(spec as Parameters<typeof createPublicKey>[0]);
}

/** Family, length in bits and curve of a parsed key; Invalid Field for anything but RSA and P-256/384/521. */
export function keyFacts(key: KeyObject): { family: KeyFamily; lengthBits: number; curve?: Curve } {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') return { family: 'rsa', lengthBits: details.modulusLength ?? 0 };
  if (key.asymmetricKeyType === 'ec') {
    const curve = curveByOpenssl(details.namedCurve);
    if (curve === undefined) throw new KmipError('KMIP_INVALID_FIELD', `EC curve ${details.namedCurve ?? '?'} is not supported (P-256, P-384, P-521)`);
    return { family: 'ec', lengthBits: curve.bits, curve };
  }
  throw new KmipError('KMIP_INVALID_FIELD', `${key.asymmetricKeyType ?? 'this'} keys are not supported (RSA, EC)`);
}

/** `key` in `format` (one of formatsFor); the bytes are the caller's to zero. */
export function exportKey(objectType: AsymmetricObjectType, key: KeyObject, format: number): KeyMaterial {
  const facts = keyFacts(key);
  if (!formatsFor(objectType, facts.family).includes(format)) throw unsupported(objectType, format);
  const der = derTypes.get(format);
  if (der !== undefined) {
    const type = objectType === ObjectType.PrivateKey ? der.private : der.public;
    const bytes = objectType === ObjectType.PrivateKey ? key.export({ format: 'der', type: type as 'pkcs1' | 'pkcs8' | 'sec1' }) : key.export({ format: 'der', type: type as 'pkcs1' | 'spki' });
    return { bytes };
  }
  const jwk = key.export({ format: 'jwk' });
  return { fields: transparentFromJwk(format, jwk, facts.curve) };
}

function unsupported(objectType: number, format: number): KmipError {
  return new KmipError('KMIP_KEY_FORMAT_NOT_SUPPORTED', `key format type ${format} is not supported for object type ${objectType}`);
}

const b64 = (b: Buffer): string => b.toString('base64url');
const unb64 = (s: string | undefined): Buffer => Buffer.from(s ?? '', 'base64url');
/** JWK field of a Big Integer; the intermediate unsigned copy is zeroed. */
const b64OfBig = (big: Buffer): string => {
  const u = fromBigInteger(big);
  try {
    return b64(u);
  } finally {
    u.fill(0);
  }
};
/** Big Integer of a JWK field; the intermediate decoded copy is zeroed. */
const bigOfB64 = (s: string | undefined): Buffer => {
  const u = unb64(s);
  try {
    return toBigInteger(u);
  } finally {
    u.fill(0);
  }
};

const RSA_PRIVATE: readonly [number, keyof JsonWebKey][] = [
  [Tag.Modulus, 'n'],
  [Tag.PrivateExponent, 'd'],
  [Tag.PublicExponent, 'e'],
  [Tag.P, 'p'],
  [Tag.Q, 'q'],
  [Tag.PrimeExponentP, 'dp'],
  [Tag.PrimeExponentQ, 'dq'],
  [Tag.CRTCoefficient, 'qi'],
];

function jwkFromTransparent(objectType: AsymmetricObjectType, format: number, f: Fields): JsonWebKey {
  if (format === F.TransparentRSAPrivateKey && objectType === ObjectType.PrivateKey) {
    const jwk: JsonWebKey = { kty: 'RSA' };
    // §2.1.7.3 lets a client send only some fields; OpenSSL (and so vmcrypt) needs the full CRT form.
    for (const [tag, name] of RSA_PRIVATE) (jwk as Record<string, string>)[name] = b64OfBig(f.required(tag, 'BigInteger'));
    return jwk;
  }
  if (format === F.TransparentRSAPublicKey && objectType === ObjectType.PublicKey) {
    return { kty: 'RSA', n: b64OfBig(f.required(Tag.Modulus, 'BigInteger')), e: b64OfBig(f.required(Tag.PublicExponent, 'BigInteger')) };
  }
  const transparent = objectType === ObjectType.PrivateKey ? EC_PRIVATE_TRANSPARENT : EC_PUBLIC_TRANSPARENT;
  if (!transparent.includes(format)) throw unsupported(objectType, format);
  const curve = curveByRecommended(f.required(Tag.RecommendedCurve, 'Enumeration'));
  if (curve === undefined) throw new KmipError('KMIP_INVALID_FIELD', 'Recommended Curve is not supported (P-256, P-384, P-521)');
  if (objectType === ObjectType.PrivateKey) {
    const unsigned = fromBigInteger(f.required(Tag.D, 'BigInteger'));
    const d = padTo(unsigned, curve.bytes);
    unsigned.fill(0);
    try {
      const ecdh = createECDH(curve.openssl);
      ecdh.setPrivateKey(d);
      return { ...pointJwk(curve, ecdh.getPublicKey()), d: b64(d) };
    } finally {
      d.fill(0);
    }
  }
  return pointJwk(curve, f.required(Tag.QString, 'ByteString'));
}

/** x and y of an EC point (SEC1 §2.3.3, compressed or not) as JWK fields. */
function pointJwk(curve: Curve, q: Buffer): JsonWebKey {
  // ECDH.convertKey decompresses a compressed point (and refuses one that is not on the curve).
  const point = q[0] === 0x04 ? q : (ECDH.convertKey(q, curve.openssl, undefined, undefined, 'uncompressed') as Buffer);
  if (point.length !== 1 + 2 * curve.bytes || point[0] !== 0x04) throw new KmipError('KMIP_INVALID_FIELD', 'Q String is not a point of the curve');
  return { kty: 'EC', crv: curve.jwk, x: b64(point.subarray(1, 1 + curve.bytes)), y: b64(point.subarray(1 + curve.bytes)) };
}

function transparentFromJwk(format: number, jwk: JsonWebKey, curve: Curve | undefined): TtlvItem[] {
  if (format === F.TransparentRSAPrivateKey) return RSA_PRIVATE.map(([tag, name]) => ttlv.bigInt(tag, bigOfB64(jwk[name] as string | undefined)));
  if (format === F.TransparentRSAPublicKey) return [ttlv.bigInt(Tag.Modulus, bigOfB64(jwk.n)), ttlv.bigInt(Tag.PublicExponent, bigOfB64(jwk.e))];
  if (curve === undefined) throw new KmipError('KMIP_GENERAL_FAILURE', 'EC key without a curve');
  const rc = ttlv.enumeration(Tag.RecommendedCurve, curve.recommended);
  if (EC_PRIVATE_TRANSPARENT.includes(format)) return [rc, ttlv.bigInt(Tag.D, bigOfB64(jwk.d))];
  return [rc, ttlv.bytes(Tag.QString, Buffer.concat([Buffer.from([0x04]), padTo(unb64(jwk.x), curve.bytes), padTo(unb64(jwk.y), curve.bytes)]))];
}
