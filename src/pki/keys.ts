import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { subtle, type Algorithm, type CryptoKeyPair, type EcdsaParams, type EcKeyImportParams, type RsaHashedImportParams } from './x509.js';
import { PkiError, PkiErrorCode } from './errors.js';

/** Key algorithms we generate. ECDSA P-256 is the default: fast, and accepted by Node and Python's ssl (PyKMIP). */
export const KeyAlgorithm = {
  ECDSA_P256: 'ecdsa-p256',
  RSA_2048: 'rsa-2048',
} as const;
export type KeyAlgorithm = (typeof KeyAlgorithm)[keyof typeof KeyAlgorithm];

/** WebCrypto parameters for one key: how to import it and how it signs. */
export interface SigningAlgorithm {
  readonly importParams: RsaHashedImportParams | EcKeyImportParams;
  readonly signParams: Algorithm | EcdsaParams;
}

const ECDSA_P256: SigningAlgorithm = {
  importParams: { name: 'ECDSA', namedCurve: 'P-256' },
  signParams: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
};
const ECDSA_P384: SigningAlgorithm = {
  importParams: { name: 'ECDSA', namedCurve: 'P-384' },
  signParams: { name: 'ECDSA', hash: 'SHA-384' } as EcdsaParams,
};
const RSA_PKCS1_SHA256: SigningAlgorithm = {
  importParams: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  signParams: { name: 'RSASSA-PKCS1-v1_5' },
};

export interface GeneratedKeyPair {
  readonly keys: CryptoKeyPair;
  readonly alg: SigningAlgorithm;
  /** PKCS#8 PEM ("BEGIN PRIVATE KEY"): read by Node's tls and Python's ssl alike. */
  readonly keyPem: string;
}

/** Generates a key pair; the private key is extractable once, to be written as PKCS#8 PEM. */
export async function generateKeyPair(algorithm: KeyAlgorithm = KeyAlgorithm.ECDSA_P256): Promise<GeneratedKeyPair> {
  let keys: CryptoKeyPair;
  let alg: SigningAlgorithm;
  if (algorithm === KeyAlgorithm.ECDSA_P256) {
    alg = ECDSA_P256;
    keys = (await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  } else if (algorithm === KeyAlgorithm.RSA_2048) {
    alg = RSA_PKCS1_SHA256;
    keys = (await subtle.generateKey(
      { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
      true,
      ['sign', 'verify'],
    )) as CryptoKeyPair;
  } else {
    throw new PkiError(PkiErrorCode.UNSUPPORTED_KEY, `unknown key algorithm '${String(algorithm)}'`);
  }
  const der = Buffer.from(await subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = toPem('PRIVATE KEY', der);
  der.fill(0);
  return { keys, alg, keyPem };
}

/** Parses a PEM private key (PKCS#8, SEC1 or PKCS#1); the error never quotes the input. */
export function parsePrivateKey(keyPem: string): KeyObject {
  try {
    const key = createPrivateKey({ key: keyPem, format: 'pem' });
    signingAlgorithmOf(key);
    return key;
  } catch (e) {
    if (e instanceof PkiError) throw e;
    throw new PkiError(PkiErrorCode.BAD_PEM, 'the private key is not a valid PEM private key');
  }
}

/** The signing algorithm for a key object, refusing keys we do not accept. */
export function signingAlgorithmOf(key: KeyObject): SigningAlgorithm {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec') {
    if (d?.namedCurve === 'prime256v1') return ECDSA_P256;
    if (d?.namedCurve === 'secp384r1') return ECDSA_P384;
    throw new PkiError(PkiErrorCode.UNSUPPORTED_KEY, `EC curve ${d?.namedCurve ?? '?'} is not supported (P-256, P-384)`);
  }
  if (key.asymmetricKeyType === 'rsa') {
    if ((d?.modulusLength ?? 0) < 2048) {
      throw new PkiError(PkiErrorCode.UNSUPPORTED_KEY, `RSA keys shorter than 2048 bits are refused`);
    }
    return RSA_PKCS1_SHA256;
  }
  throw new PkiError(PkiErrorCode.UNSUPPORTED_KEY, `key type ${key.asymmetricKeyType ?? '?'} is not supported`);
}

/** Imports a PEM private key as a WebCrypto signing key pair (public key derived from it). */
export async function importSigningKey(keyPem: string): Promise<{ keys: CryptoKeyPair; alg: SigningAlgorithm }> {
  const key = parsePrivateKey(keyPem);
  const alg = signingAlgorithmOf(key);
  const der = key.export({ format: 'der', type: 'pkcs8' });
  try {
    const privateKey = await subtle.importKey('pkcs8', der, alg.importParams, false, ['sign']);
    const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
    const publicKey = await subtle.importKey('spki', spki, alg.importParams, true, ['verify']);
    return { keys: { privateKey, publicKey } as CryptoKeyPair, alg };
  } finally {
    der.fill(0);
  }
}

/** Refuses a public key (e.g. from a CSR) we would not issue for; returns whether it is RSA. */
export function checkPublicKey(spkiDer: Uint8Array): { isRsa: boolean } {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(spkiDer), format: 'der', type: 'spki' });
  } catch {
    throw new PkiError(PkiErrorCode.BAD_PEM, 'the public key is not a valid SubjectPublicKeyInfo');
  }
  signingAlgorithmOf(key);
  return { isRsa: key.asymmetricKeyType === 'rsa' };
}

/** DER SubjectPublicKeyInfo of a private key's public half, for matching a key to a certificate. */
export function publicKeySpki(keyPem: string): Buffer {
  return createPublicKey(parsePrivateKey(keyPem)).export({ format: 'der', type: 'spki' });
}

export function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
