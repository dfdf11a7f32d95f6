import { createCipheriv, createDecipheriv, type Cipher, type CipherGCM, type CipherGCMTypes, type Decipher, type DecipherGCM } from 'node:crypto';
import { BlockCipherMode, CryptographicAlgorithm, PaddingMethod } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import type { CryptographicParameters } from '../../kmip/payloads/crypto-parameters.js';
import { CryptoLimits } from './limits.js';

/** One symmetric Encrypt or Decrypt, all through OpenSSL (node:crypto). `key` and `data` are secret. */
export interface SymmetricInput {
  readonly algorithm: number | undefined;
  readonly key: Buffer;
  readonly params: CryptographicParameters;
  readonly data: Buffer;
  readonly iv?: Buffer;
  readonly aad?: Buffer;
}

export interface SymmetricOutput {
  readonly data: Buffer;
  /** The IV/counter/nonce the server drew, returned only when the client gave none (KMIP 1.4 §4.29). */
  readonly generatedIv?: Buffer;
  readonly tag?: Buffer;
}

interface Mode {
  readonly name: string;
  /** IV bytes: exact for CBC/CTR, the default for GCM, 0 for ECB. */
  readonly ivBytes: (blockBytes: number) => number;
  readonly padded: boolean;
}

const modes = new Map<number, Mode>([
  [BlockCipherMode.GCM, { name: 'gcm', ivBytes: () => 12, padded: false }],
  [BlockCipherMode.CBC, { name: 'cbc', ivBytes: (b) => b, padded: true }],
  [BlockCipherMode.CTR, { name: 'ctr', ivBytes: (b) => b, padded: false }],
  [BlockCipherMode.ECB, { name: 'ecb', ivBytes: () => 0, padded: true }],
]);

/** OpenSSL cipher name and block size of (algorithm, key length, mode). */
function cipherOf(algorithm: number | undefined, keyBytes: number, mode: Mode): { name: string; block: number } {
  if (algorithm === CryptographicAlgorithm.AES && [16, 24, 32].includes(keyBytes)) return { name: `aes-${keyBytes * 8}-${mode.name}`, block: 16 };
  if (algorithm === CryptographicAlgorithm.TripleDES && keyBytes === 24 && (mode.name === 'cbc' || mode.name === 'ecb')) {
    return { name: mode.name === 'cbc' ? 'des-ede3-cbc' : 'des-ede3', block: 8 };
  }
  throw new KmipError('KMIP_INVALID_FIELD', `Cryptographic Algorithm ${algorithm ?? 'none'} with a ${keyBytes * 8}-bit key is not supported in ${mode.name.toUpperCase()} mode`);
}

const GCM_TAG_BYTES = [12, 13, 14, 15, 16];

interface Plan {
  readonly cipher: string;
  readonly mode: Mode;
  readonly block: number;
  readonly ivBytes: number;
  readonly autoPadding: boolean;
  readonly tagBytes: number;
}

function plan(input: SymmetricInput): Plan {
  const p = input.params;
  if (p.cryptographicAlgorithm !== undefined && p.cryptographicAlgorithm !== input.algorithm) {
    throw new KmipError('KMIP_INVALID_FIELD', `Cryptographic Algorithm ${p.cryptographicAlgorithm} does not match the key's (${input.algorithm ?? 'none'})`);
  }
  if (p.blockCipherMode === undefined) throw new KmipError('KMIP_INVALID_FIELD', 'a Block Cipher Mode is required (GCM, CBC, CTR or ECB)');
  const mode = modes.get(p.blockCipherMode);
  if (mode === undefined) throw new KmipError('KMIP_INVALID_FIELD', `Block Cipher Mode ${p.blockCipherMode} is not supported (GCM, CBC, CTR, ECB)`);
  const { name, block } = cipherOf(input.algorithm, input.key.length, mode);
  let autoPadding = false;
  if (mode.padded) {
    // No Padding Method = None: the OASIS test cases (CS-BC-M-1/-4/-6-14) send ECB without one.
    if (p.paddingMethod === PaddingMethod.PKCS5) autoPadding = true;
    else if (p.paddingMethod !== undefined && p.paddingMethod !== PaddingMethod.None) throw new KmipError('KMIP_INVALID_FIELD', `${mode.name.toUpperCase()} takes Padding Method PKCS5 or None`);
  } else if (p.paddingMethod !== undefined && p.paddingMethod !== PaddingMethod.None) {
    throw new KmipError('KMIP_INVALID_FIELD', `${mode.name.toUpperCase()} takes no padding`);
  }
  let ivBytes = mode.ivBytes(block);
  if (p.ivLength !== undefined) {
    const wanted = p.ivLength / 8;
    const ok = mode.name === 'gcm' ? Number.isInteger(wanted) && wanted >= 1 && wanted <= CryptoLimits.MAX_IV_BYTES : wanted === ivBytes;
    if (!ok) throw new KmipError('KMIP_INVALID_FIELD', `IV Length ${p.ivLength} bits is not valid for ${mode.name.toUpperCase()}`);
    ivBytes = wanted;
  }
  const tagBytes = p.tagLength ?? 16;
  // The OASIS test case CS-BC-M-GCM-1-14 expects General Failure for a Tag Length of 1 or 32.
  if (mode.name === 'gcm' && !GCM_TAG_BYTES.includes(tagBytes)) throw new KmipError('KMIP_GENERAL_FAILURE', 'GCM Tag Length must be 12 to 16 bytes');
  if (mode.name !== 'gcm' && input.aad !== undefined) throw new KmipError('KMIP_INVALID_FIELD', 'Authenticated Encryption Additional Data is for GCM only');
  if (input.data.length > CryptoLimits.MAX_DATA_BYTES) throw new KmipError('KMIP_INVALID_FIELD', `Data is limited to ${CryptoLimits.MAX_DATA_BYTES} bytes`);
  if ((input.aad?.length ?? 0) > CryptoLimits.MAX_AAD_BYTES) throw new KmipError('KMIP_INVALID_FIELD', `Additional Data is limited to ${CryptoLimits.MAX_AAD_BYTES} bytes`);
  if (!autoPadding && mode.padded && input.data.length % block !== 0) {
    throw new KmipError('KMIP_INVALID_FIELD', `with Padding Method None the data must be a multiple of ${block} bytes`);
  }
  return { cipher: name, mode, block, ivBytes, autoPadding, tagBytes };
}

function checkIv(pl: Plan, iv: Buffer): void {
  const ok = pl.mode.name === 'gcm' ? iv.length >= 1 && iv.length <= CryptoLimits.MAX_IV_BYTES : iv.length === pl.ivBytes;
  if (!ok) throw new KmipError('KMIP_INVALID_FIELD', `IV/Counter/Nonce of ${iv.length} bytes is not valid for ${pl.mode.name.toUpperCase()}`);
}

/** An encryption under way: its OpenSSL context (holding its own copy of the key) and what to answer. */
export interface EncryptionRun {
  readonly cipher: Cipher;
  readonly gcm: boolean;
  readonly generatedIv?: Buffer;
}

/** Starts an Encrypt (KMIP 1.4 §4.29): with no IV from the client (or Random IV set) the server draws one and returns it. */
export function startEncryption(input: SymmetricInput, randomBytes: (n: number) => Buffer): EncryptionRun {
  const pl = plan(input);
  let iv = input.iv;
  let generated: Buffer | undefined;
  if (input.params.randomIv === true && iv !== undefined) throw new KmipError('KMIP_INVALID_FIELD', 'Random IV is set: the server draws the IV, send none');
  if (pl.ivBytes > 0 && iv === undefined) iv = generated = randomBytes(pl.ivBytes);
  if (pl.ivBytes === 0 && iv !== undefined) throw new KmipError('KMIP_INVALID_FIELD', 'ECB takes no IV');
  if (iv !== undefined) checkIv(pl, iv);
  const gcm = pl.mode.name === 'gcm';
  const c: Cipher = gcm ? createCipheriv(pl.cipher as CipherGCMTypes, input.key, iv as Buffer, { authTagLength: pl.tagBytes }) : createCipheriv(pl.cipher, input.key, iv ?? null);
  c.setAutoPadding(pl.autoPadding);
  if (input.aad !== undefined) (c as CipherGCM).setAAD(input.aad);
  return { cipher: c, gcm, ...(generated === undefined ? {} : { generatedIv: generated }) };
}

/** The last bytes of an encryption and, for GCM, its tag. */
export function finishEncryption(run: EncryptionRun): { data: Buffer; tag?: Buffer } {
  const data = run.cipher.final();
  return run.gcm ? { data, tag: (run.cipher as CipherGCM).getAuthTag() } : { data };
}

/** Encrypt in one shot. */
export function symmetricEncrypt(input: SymmetricInput, randomBytes: (n: number) => Buffer): SymmetricOutput {
  const run = startEncryption(input, randomBytes);
  const first = run.cipher.update(input.data);
  const last = finishEncryption(run);
  const data = Buffer.concat([first, last.data]);
  return { data, ...(run.generatedIv === undefined ? {} : { generatedIv: run.generatedIv }), ...(last.tag === undefined ? {} : { tag: last.tag }) };
}

/** Decrypt (KMIP 1.4 §4.30). A GCM tag that does not verify, or bad padding: Cryptographic Failure. */
export function symmetricDecrypt(input: SymmetricInput & { readonly tag?: Buffer }): Buffer {
  const pl = plan(input);
  // Missing Field (Invalid Message), as the OASIS test cases CS-BC-M-11/12/13-14 expect.
  if (pl.ivBytes > 0 && input.iv === undefined) throw new KmipError('KMIP_MISSING_FIELD', `${pl.mode.name.toUpperCase()} decryption needs the IV/Counter/Nonce`);
  if (pl.ivBytes === 0 && input.iv !== undefined) throw new KmipError('KMIP_INVALID_FIELD', 'ECB takes no IV');
  if (input.iv !== undefined) checkIv(pl, input.iv);
  const gcm = pl.mode.name === 'gcm';
  if (gcm && input.tag === undefined) throw new KmipError('KMIP_INVALID_FIELD', 'GCM needs the Authenticated Encryption Tag');
  if (gcm && input.tag !== undefined && input.tag.length !== pl.tagBytes) throw new KmipError('KMIP_INVALID_FIELD', `the tag is ${input.tag?.length} bytes, the Tag Length ${pl.tagBytes}`);
  if (!gcm && input.tag !== undefined) throw new KmipError('KMIP_INVALID_FIELD', 'an Authenticated Encryption Tag is for GCM only');
  const d: Decipher = gcm ? createDecipheriv(pl.cipher as CipherGCMTypes, input.key, input.iv as Buffer, { authTagLength: pl.tagBytes }) : createDecipheriv(pl.cipher, input.key, input.iv ?? null);
  d.setAutoPadding(pl.autoPadding);
  if (gcm) {
    (d as DecipherGCM).setAuthTag(input.tag as Buffer);
    if (input.aad !== undefined) (d as DecipherGCM).setAAD(input.aad);
  }
  const first = d.update(input.data);
  try {
    return Buffer.concat([first, d.final()]);
  } catch (err) {
    first.fill(0);
    // OpenSSL's message says only "unsupported state or unable to authenticate data" / "bad decrypt".
    throw new KmipError('KMIP_CRYPTOGRAPHIC_FAILURE', gcm ? 'decryption failed: the tag does not authenticate the data' : 'decryption failed: bad padding', { cause: err });
  }
}
