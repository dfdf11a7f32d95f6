import { constants, privateDecrypt, publicEncrypt, sign, verify, type KeyObject } from 'node:crypto';
import { CryptographicAlgorithm, DigitalSignatureAlgorithm as DSA, HashingAlgorithm as H, MaskGenerator, PaddingMethod } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import type { CryptographicParameters } from '../../kmip/payloads/crypto-parameters.js';
import { digestName } from './hashes.js';
import { CryptoLimits } from './limits.js';

/** A signature scheme: RSA PKCS#1 v1.5, RSA-PSS or ECDSA (DER-encoded signatures), with its digest. */
export interface SignatureScheme {
  readonly family: 'rsa' | 'ec';
  readonly digest: string;
  readonly pss: boolean;
  readonly saltLength?: number;
}

const byDsa = new Map<number, { family: 'rsa' | 'ec'; hash?: number; pss?: boolean }>([
  [DSA.SHA1WithRSAEncryption, { family: 'rsa', hash: H.SHA1 }],
  [DSA.SHA224WithRSAEncryption, { family: 'rsa', hash: H.SHA224 }],
  [DSA.SHA256WithRSAEncryption, { family: 'rsa', hash: H.SHA256 }],
  [DSA.SHA384WithRSAEncryption, { family: 'rsa', hash: H.SHA384 }],
  [DSA.SHA512WithRSAEncryption, { family: 'rsa', hash: H.SHA512 }],
  [DSA.RSASSA_PSS, { family: 'rsa', pss: true }],
  [DSA.ECDSAWithSHA1, { family: 'ec', hash: H.SHA1 }],
  [DSA.ECDSAWithSHA224, { family: 'ec', hash: H.SHA224 }],
  [DSA.ECDSAWithSHA256, { family: 'ec', hash: H.SHA256 }],
  [DSA.ECDSAWithSHA384, { family: 'ec', hash: H.SHA384 }],
  [DSA.ECDSAWithSHA512, { family: 'ec', hash: H.SHA512 }],
]);

function familyOf(key: KeyObject): 'rsa' | 'ec' {
  const t = key.asymmetricKeyType;
  if (t === 'rsa' || t === 'rsa-pss') return 'rsa';
  if (t === 'ec') return 'ec';
  throw new KmipError('KMIP_INVALID_FIELD', `keys of type ${t ?? 'unknown'} cannot sign or verify here (RSA and EC only)`);
}

/**
 * The scheme of Sign / Signature Verify (KMIP 1.4 §4.31–4.32): the Digital Signature Algorithm, or
 * else Cryptographic Algorithm (default: the key's) + Hashing Algorithm (required) + Padding
 * Method (RSA: PKCS1 v1.5, the default, or PSS). It must fit the key.
 */
export function signatureScheme(key: KeyObject, p: CryptographicParameters): SignatureScheme {
  const family = familyOf(key);
  let want: 'rsa' | 'ec';
  let hash = p.hashingAlgorithm;
  let pss = p.paddingMethod === PaddingMethod.PSS;
  if (p.digitalSignatureAlgorithm !== undefined) {
    const d = byDsa.get(p.digitalSignatureAlgorithm);
    if (d === undefined) throw new KmipError('KMIP_INVALID_FIELD', `Digital Signature Algorithm ${p.digitalSignatureAlgorithm} is not supported`);
    want = d.family;
    hash = d.hash ?? hash ?? H.SHA256;
    pss = d.pss === true;
  } else {
    const alg = p.cryptographicAlgorithm;
    if (alg === undefined) want = family;
    else if (alg === CryptographicAlgorithm.RSA) want = 'rsa';
    else if (alg === CryptographicAlgorithm.ECDSA || alg === CryptographicAlgorithm.EC) want = 'ec';
    else throw new KmipError('KMIP_INVALID_FIELD', `Cryptographic Algorithm ${alg} does not sign`);
    if (family === 'rsa' && p.paddingMethod !== undefined && p.paddingMethod !== PaddingMethod.PKCS1v15 && !pss) {
      throw new KmipError('KMIP_INVALID_FIELD', 'RSA signatures take Padding Method PKCS1 v1.5 or PSS');
    }
  }
  if (want !== family) throw new KmipError('KMIP_INVALID_FIELD', `the parameters name an ${want.toUpperCase()} signature, the key is ${family.toUpperCase()}`);
  return { family, digest: digestName(hash, 'a signature'), pss: family === 'rsa' && pss, ...(p.saltLength === undefined ? {} : { saltLength: p.saltLength }) };
}

function options(key: KeyObject, s: SignatureScheme, verifying: boolean) {
  if (!s.pss) return { key, dsaEncoding: 'der' as const };
  const saltLength = s.saltLength ?? (verifying ? constants.RSA_PSS_SALTLEN_AUTO : constants.RSA_PSS_SALTLEN_DIGEST);
  return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength };
}

function checkData(data: Buffer): void {
  if (data.length > CryptoLimits.MAX_DATA_BYTES) throw new KmipError('KMIP_INVALID_FIELD', `Data is limited to ${CryptoLimits.MAX_DATA_BYTES} bytes`);
}

export function signData(key: KeyObject, s: SignatureScheme, data: Buffer): Buffer {
  checkData(data);
  try {
    return sign(s.digest, data, options(key, s, false));
  } catch (err) {
    throw new KmipError('KMIP_CRYPTOGRAPHIC_FAILURE', 'signing failed (key too small for this digest and padding?)', { cause: err });
  }
}

/** True when `signature` is valid; a malformed signature is simply not valid. */
export function verifyData(key: KeyObject, s: SignatureScheme, data: Buffer, signature: Buffer): boolean {
  checkData(data);
  try {
    return verify(s.digest, data, options(key, s, true), signature);
  } catch {
    return false;
  }
}

/** RSA-OAEP parameters (RFC 8017 §7.1): Hashing Algorithm (default SHA-1) for the label hash and MGF1 alike. */
function oaep(p: CryptographicParameters): { oaepHash: string } {
  if (p.paddingMethod !== undefined && p.paddingMethod !== PaddingMethod.OAEP) {
    throw new KmipError('KMIP_FEATURE_NOT_SUPPORTED', 'RSA encryption is served with Padding Method OAEP only (PKCS#1 v1.5 encryption is unsafe)');
  }
  if (p.maskGenerator !== undefined && p.maskGenerator !== MaskGenerator.MGF1) throw new KmipError('KMIP_INVALID_FIELD', 'OAEP takes Mask Generator MGF1');
  const hash = p.hashingAlgorithm ?? H.SHA1;
  if (p.maskGeneratorHashingAlgorithm !== undefined && p.maskGeneratorHashingAlgorithm !== hash) {
    throw new KmipError('KMIP_FEATURE_NOT_SUPPORTED', 'OAEP with an MGF1 hash other than the Hashing Algorithm is not supported');
  }
  if (p.pSource !== undefined && p.pSource.length > 0) throw new KmipError('KMIP_FEATURE_NOT_SUPPORTED', 'OAEP labels (P Source) are not supported');
  return { oaepHash: digestName(hash, 'OAEP') };
}

function rsaKey(key: KeyObject): void {
  if (familyOf(key) !== 'rsa') throw new KmipError('KMIP_INVALID_FIELD', 'RSA-OAEP needs an RSA key');
}

export function rsaOaepEncrypt(publicKey: KeyObject, p: CryptographicParameters, data: Buffer): Buffer {
  rsaKey(publicKey);
  const o = oaep(p);
  try {
    return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, ...o }, data);
  } catch (err) {
    throw new KmipError('KMIP_INVALID_FIELD', 'the data is too long for RSA-OAEP with this key and hash', { cause: err });
  }
}

export function rsaOaepDecrypt(privateKey: KeyObject, p: CryptographicParameters, data: Buffer): Buffer {
  rsaKey(privateKey);
  const o = oaep(p);
  try {
    return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, ...o }, data);
  } catch (err) {
    throw new KmipError('KMIP_CRYPTOGRAPHIC_FAILURE', 'RSA-OAEP decryption failed', { cause: err });
  }
}
