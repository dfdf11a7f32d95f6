import { createHmac, timingSafeEqual } from 'node:crypto';
import { CryptographicAlgorithm } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import type { CryptographicParameters } from '../../kmip/payloads/crypto-parameters.js';
import { hmacDigest } from './hashes.js';
import { CryptoLimits } from './limits.js';

/**
 * The HMAC digest of a MAC request (KMIP 1.4 §4.33): the Cryptographic Algorithm of the request's
 * parameters, else the key's. An HMAC key serves its own algorithm only; an AES key (the keys
 * vSphere-style clients create) serves any HMAC named in the request. CMAC is not served: Node's
 * crypto exposes no CMAC.
 */
export function macDigest(keyAlgorithm: number | undefined, params: CryptographicParameters | undefined): string {
  const asked = params?.cryptographicAlgorithm;
  const keyDigest = hmacDigest(keyAlgorithm);
  if (asked !== undefined && keyDigest !== undefined && asked !== keyAlgorithm) {
    throw new KmipError('KMIP_INVALID_FIELD', `the key is for HMAC algorithm ${keyAlgorithm}, not ${asked}`);
  }
  if (params?.blockCipherMode !== undefined) {
    throw new KmipError('KMIP_FEATURE_NOT_SUPPORTED', 'CMAC / CBC-MAC are not supported (HMAC only)');
  }
  const digest = keyDigest ?? (keyAlgorithm === CryptographicAlgorithm.AES ? hmacDigest(asked) : undefined);
  if (digest === undefined) {
    throw new KmipError('KMIP_INVALID_FIELD', asked === undefined ? 'MAC needs an HMAC Cryptographic Algorithm (in the key or the Cryptographic Parameters)' : `Cryptographic Algorithm ${asked} is not an HMAC vmcrypt serves`);
  }
  return digest;
}

export function computeMac(digest: string, key: Buffer, data: Buffer): Buffer {
  if (data.length > CryptoLimits.MAX_DATA_BYTES) throw new KmipError('KMIP_INVALID_FIELD', `Data is limited to ${CryptoLimits.MAX_DATA_BYTES} bytes`);
  if (key.length === 0) throw new KmipError('KMIP_INVALID_FIELD', 'the key is empty');
  return createHmac(digest, key).update(data).digest();
}

/** Constant-time comparison of the computed MAC with the client's (a length mismatch is Invalid, not an error). */
export function macMatches(digest: string, key: Buffer, data: Buffer, macData: Buffer): boolean {
  const mac = computeMac(digest, key, data);
  return mac.length === macData.length && timingSafeEqual(mac, macData);
}
