import { CryptographicAlgorithm, HashingAlgorithm } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';

/** OpenSSL digest names of the KMIP Hashing Algorithms vmcrypt serves (KMIP 1.4 §9.1.3.2.16); MD2/MD4/MD5 are not. */
const digestOf = new Map<number, string>([
  [HashingAlgorithm.SHA1, 'sha1'],
  [HashingAlgorithm.SHA224, 'sha224'],
  [HashingAlgorithm.SHA256, 'sha256'],
  [HashingAlgorithm.SHA384, 'sha384'],
  [HashingAlgorithm.SHA512, 'sha512'],
  [HashingAlgorithm.SHA512_224, 'sha512-224'],
  [HashingAlgorithm.SHA512_256, 'sha512-256'],
  [HashingAlgorithm.SHA3_224, 'sha3-224'],
  [HashingAlgorithm.SHA3_256, 'sha3-256'],
  [HashingAlgorithm.SHA3_384, 'sha3-384'],
  [HashingAlgorithm.SHA3_512, 'sha3-512'],
]);

/** The digest of a Hashing Algorithm; Invalid Field when absent or not served. */
export function digestName(hashingAlgorithm: number | undefined, what: string): string {
  if (hashingAlgorithm === undefined) throw new KmipError('KMIP_INVALID_FIELD', `${what} needs a Hashing Algorithm in the Cryptographic Parameters`);
  const d = digestOf.get(hashingAlgorithm);
  if (d === undefined) throw new KmipError('KMIP_INVALID_FIELD', `Hashing Algorithm ${hashingAlgorithm} is not supported`);
  return d;
}

/** The digests of the HMAC Cryptographic Algorithms (KMIP 1.4 §9.1.3.2.13). */
const hmacDigestOf = new Map<number, string>([
  [CryptographicAlgorithm.HMAC_SHA1, 'sha1'],
  [CryptographicAlgorithm.HMAC_SHA224, 'sha224'],
  [CryptographicAlgorithm.HMAC_SHA256, 'sha256'],
  [CryptographicAlgorithm.HMAC_SHA384, 'sha384'],
  [CryptographicAlgorithm.HMAC_SHA512, 'sha512'],
]);

/** The digest of an HMAC algorithm, or undefined when `algorithm` is not an HMAC. */
export function hmacDigest(algorithm: number | undefined): string | undefined {
  return algorithm === undefined ? undefined : hmacDigestOf.get(algorithm);
}
