import { CryptographicAlgorithm as Alg } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';

/**
 * The symmetric keys vmcrypt creates and registers: the Symmetric Key Foundry profile's AES and
 * 3DES, and HMAC keys (KMIP 1.4 §9.1.3.2.13). 3DES is the three-key form: 168 bits of key in a
 * 192-bit encoding (24 bytes, one parity bit per byte); its Cryptographic Length is 168 (or 192,
 * if the client says so — both name the same key).
 */
const HMAC_ALGORITHMS = new Set<number>([Alg.HMAC_SHA1, Alg.HMAC_SHA224, Alg.HMAC_SHA256, Alg.HMAC_SHA384, Alg.HMAC_SHA512]);
/** HMAC keys: RFC 2104 allows any length; below 64 bits is no key, above 4096 bits only costs. */
const HMAC_MIN_BITS = 64;
const HMAC_MAX_BITS = 4096;

export const symmetricAlgorithms: readonly number[] = [Alg.AES, Alg.TripleDES, ...HMAC_ALGORITHMS];

/** The key size in bytes for `alg` at Cryptographic Length `bits`; Invalid Field otherwise. */
export function symmetricKeyBytes(alg: number, bits: number): number {
  if (alg === Alg.AES) {
    if (bits === 128 || bits === 192 || bits === 256) return bits / 8;
    throw new KmipError('KMIP_INVALID_FIELD', `AES keys are 128, 192 or 256 bits, not ${bits}`);
  }
  if (alg === Alg.TripleDES) {
    if (bits === 168 || bits === 192) return 24;
    throw new KmipError('KMIP_INVALID_FIELD', `3DES keys are 168 bits (192-bit encoding), not ${bits}`);
  }
  if (HMAC_ALGORITHMS.has(alg)) {
    if (bits % 8 === 0 && bits >= HMAC_MIN_BITS && bits <= HMAC_MAX_BITS) return bits / 8;
    throw new KmipError('KMIP_INVALID_FIELD', `HMAC keys are ${HMAC_MIN_BITS} to ${HMAC_MAX_BITS} bits, a multiple of 8, not ${bits}`);
  }
  throw new KmipError('KMIP_INVALID_FIELD', `Cryptographic Algorithm ${alg} is not supported for symmetric keys (AES, 3DES, HMAC-SHA1/224/256/384/512)`);
}

/**
 * The Cryptographic Length of a registered key of `alg` made of `material`: `declared` if the
 * client gave one and it fits the bytes, the natural one otherwise.
 */
export function registeredLength(alg: number, material: Buffer, declared: number | undefined): number {
  const bits = declared ?? (alg === Alg.TripleDES ? 168 : material.length * 8);
  if (symmetricKeyBytes(alg, bits) !== material.length) {
    throw new KmipError('KMIP_INVALID_FIELD', 'Cryptographic Length does not match the key material');
  }
  return bits;
}

/** A fresh key of `bytes` random bytes; 3DES keys get odd parity in every byte (FIPS 46-3 §3). */
export function newSymmetricKey(alg: number, bytes: number, randomBytes: (n: number) => Buffer): Buffer {
  const key = randomBytes(bytes);
  if (alg === Alg.TripleDES) for (let i = 0; i < key.length; i++) key[i] = withOddParity(key[i] ?? 0);
  return key;
}

function withOddParity(b: number): number {
  let ones = 0;
  for (let v = b >> 1; v !== 0; v >>= 1) ones += v & 1;
  return (b & 0xfe) | (ones % 2 === 0 ? 1 : 0);
}
