import { createHmac, hkdf, pbkdf2 } from 'node:crypto';
import { promisify } from 'node:util';
import { DerivationMethod, HashingAlgorithm } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import type { DerivationParameters } from '../../kmip/payloads/derive-key.js';
import { digestName } from './hashes.js';
import { CryptoLimits } from './limits.js';
import { symmetricEncrypt } from './symmetric-cipher.js';

const pbkdf2Async = promisify(pbkdf2);
const hkdfAsync = promisify(hkdf);

export interface DerivationInput {
  readonly method: number;
  readonly parameters: DerivationParameters;
  /** The base object's bytes (secret; the caller zeroes them) and its algorithm. */
  readonly key: Buffer;
  readonly keyAlgorithm: number | undefined;
  readonly lengthBytes: number;
  readonly randomBytes: (n: number) => Buffer;
}

function bounded(b: Buffer | undefined, what: string): Buffer | undefined {
  if (b !== undefined && b.length > CryptoLimits.MAX_DERIVATION_INPUT_BYTES) {
    throw new KmipError('KMIP_INVALID_FIELD', `${what} is limited to ${CryptoLimits.MAX_DERIVATION_INPUT_BYTES} bytes`);
  }
  return b;
}

/**
 * Derive Key methods (KMIP 1.4 §4.6), each through OpenSSL. Returns `lengthBytes` new secret bytes.
 * - PBKDF2 (RFC 8018 §5.2): PRF HMAC with the Hashing Algorithm (default SHA-1, as §4.6 says), Salt and
 *   Iteration Count required. Runs on the thread pool, bounded to 1,000,000 iterations.
 * - HMAC: HKDF (RFC 5869; HMAC extract-and-expand) with Salt and Derivation Data as info — what
 *   PyKMIP's server does for this method, so both servers derive the same key.
 * - NIST SP 800-108 counter mode, HMAC PRF: K(i) = HMAC(key, [i]₃₂ ‖ Derivation Data), i from 1;
 *   the Derivation Data is the whole fixed input (label ‖ 0x00 ‖ context ‖ [L] as the client wants).
 * - Encrypt: the Derivation Data encrypted under the base key with the Cryptographic Parameters
 *   and Initialization Vector, truncated to the length asked.
 */
export async function derive(input: DerivationInput): Promise<Buffer> {
  const p = input.parameters;
  const len = input.lengthBytes;
  if (!Number.isInteger(len) || len < 1 || len > CryptoLimits.MAX_DERIVED_BYTES) {
    throw new KmipError('KMIP_INVALID_FIELD', `the derived length must be 1 to ${CryptoLimits.MAX_DERIVED_BYTES} bytes`);
  }
  const data = bounded(p.derivationData, 'Derivation Data');
  const salt = bounded(p.salt, 'Salt');
  switch (input.method) {
    case DerivationMethod.PBKDF2: {
      const digest = digestName(p.cryptographicParameters?.hashingAlgorithm ?? HashingAlgorithm.SHA1, 'PBKDF2');
      if (salt === undefined) throw new KmipError('KMIP_INVALID_FIELD', 'PBKDF2 needs a Salt');
      const n = p.iterationCount;
      if (n === undefined || n < 1 || n > CryptoLimits.MAX_PBKDF2_ITERATIONS) {
        throw new KmipError('KMIP_INVALID_FIELD', `PBKDF2 needs an Iteration Count of 1 to ${CryptoLimits.MAX_PBKDF2_ITERATIONS}`);
      }
      return pbkdf2Async(input.key, salt, n, len, digest);
    }
    case DerivationMethod.HMAC: {
      const digest = digestName(p.cryptographicParameters?.hashingAlgorithm, 'HMAC derivation');
      if (input.key.length === 0) throw new KmipError('KMIP_INVALID_FIELD', 'the base key is empty');
      try {
        return Buffer.from(await hkdfAsync(digest, input.key, salt ?? Buffer.alloc(0), data ?? Buffer.alloc(0), len));
      } catch (err) {
        throw new KmipError('KMIP_INVALID_FIELD', `HKDF cannot give ${len} bytes with this hash`, { cause: err });
      }
    }
    case DerivationMethod.NIST800_108_C:
      return counterModeKdf(digestName(p.cryptographicParameters?.hashingAlgorithm, 'NIST SP 800-108 derivation'), input.key, data ?? Buffer.alloc(0), len);
    case DerivationMethod.Encrypt: {
      if (data === undefined) throw new KmipError('KMIP_INVALID_FIELD', 'Encrypt derivation needs Derivation Data');
      const params = p.cryptographicParameters;
      if (params === undefined) throw new KmipError('KMIP_INVALID_FIELD', 'Encrypt derivation needs Cryptographic Parameters');
      const iv = p.initializationVector;
      const out = symmetricEncrypt({ algorithm: input.keyAlgorithm, key: input.key, params, data, ...(iv === undefined ? {} : { iv }) }, input.randomBytes);
      if (out.data.length < len) {
        out.data.fill(0);
        throw new KmipError('KMIP_INVALID_FIELD', `the encrypted Derivation Data is ${out.data.length} bytes, fewer than the ${len} asked`);
      }
      const key = Buffer.from(out.data.subarray(0, len));
      out.data.fill(0);
      return key;
    }
    default:
      throw new KmipError('KMIP_FEATURE_NOT_SUPPORTED', `Derivation Method ${input.method} is not supported (PBKDF2, HMAC, Encrypt, NIST800-108-C)`);
  }
}

/** NIST SP 800-108r1 §4.1, KDF in counter mode with a 32-bit counter before the fixed input. */
export function counterModeKdf(digest: string, key: Buffer, fixedInput: Buffer, lengthBytes: number): Buffer {
  if (key.length === 0) throw new KmipError('KMIP_INVALID_FIELD', 'the base key is empty');
  const blocks: Buffer[] = [];
  let have = 0;
  const counter = Buffer.alloc(4);
  for (let i = 1; have < lengthBytes; i++) {
    counter.writeUInt32BE(i, 0);
    const block = createHmac(digest, key).update(counter).update(fixedInput).digest();
    blocks.push(block);
    have += block.length;
  }
  const all = Buffer.concat(blocks);
  for (const b of blocks) b.fill(0);
  const out = Buffer.from(all.subarray(0, lengthBytes));
  all.fill(0);
  return out;
}
