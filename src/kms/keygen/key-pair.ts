import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { KmipError } from '../../kmip/errors.js';
import { curveByBits } from './curves.js';
import type { KeyFamily } from './asymmetric-formats.js';

const generate = promisify(generateKeyPair);

/** RSA moduli Create Key Pair makes (NIST SP 800-57: 2048 bits and more). */
export const RSA_CREATE_BITS: readonly number[] = [2048, 3072, 4096];

/** A new key pair: the private key as PKCS#8 DER (secret: the caller zeroes it), the public as SPKI DER. */
export interface NewKeyPair {
  readonly privateDer: Buffer;
  readonly publicDer: Buffer;
}

/**
 * Key pairs generated at once. Generation runs on libuv's thread pool (4 threads), which also
 * carries the audit log's and the data dir's file I/O: a burst of RSA-4096 requests must not take
 * all of it. Others wait their turn.
 */
const MAX_CONCURRENT_GENERATIONS = 2;
let generating = 0;
const waiting: (() => void)[] = [];

/**
 * A fresh RSA (public exponent 65537) or EC (P-256/384/521) key pair from OpenSSL, generated off
 * the event loop (an RSA-4096 key takes about a second of one core).
 */
export async function newKeyPair(family: KeyFamily, bits: number): Promise<NewKeyPair> {
  checkKeyPairSize(family, bits);
  while (generating >= MAX_CONCURRENT_GENERATIONS) await new Promise<void>((resolve) => waiting.push(resolve));
  generating++;
  try {
    return await generateOne(family, bits);
  } finally {
    generating--;
    waiting.shift()?.();
  }
}

/** Invalid Field unless Create Key Pair makes keys of `family` and `bits`. */
export function checkKeyPairSize(family: KeyFamily, bits: number): void {
  if (family === 'rsa' && !RSA_CREATE_BITS.includes(bits)) throw new KmipError('KMIP_INVALID_FIELD', `RSA key pairs are ${RSA_CREATE_BITS.join(', ')} bits, not ${bits}`);
  if (family === 'ec' && curveByBits(bits) === undefined) throw new KmipError('KMIP_INVALID_FIELD', `EC key pairs are 256, 384 or 521 bits (P-256, P-384, P-521), not ${bits}`);
}

async function generateOne(family: KeyFamily, bits: number): Promise<NewKeyPair> {
  if (family === 'rsa') {
    const { publicKey, privateKey } = await generate('rsa', {
      modulusLength: bits,
      publicExponent: 0x10001,
      publicKeyEncoding: { type: 'spki', format: 'der' },
      privateKeyEncoding: { type: 'pkcs8', format: 'der' },
    });
    return { privateDer: privateKey, publicDer: publicKey };
  }
  const { publicKey, privateKey } = await generate('ec', {
    namedCurve: curveByBits(bits)?.jwk ?? '',
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
  });
  return { privateDer: privateKey, publicDer: publicKey };
}
