import { BlockCipherMode, CryptographicUsageMask, HashingAlgorithm, ObjectType, PaddingMethod, WrappingMethod } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import type { CryptographicParameters } from '../../kmip/payloads/crypto-parameters.js';
import type { KeyInformation } from '../../kmip/payloads/key-wrapping.js';
import type { OpContext } from '../context.js';
import { rsaOaepDecrypt, rsaOaepEncrypt } from '../crypto-services/asymmetric.js';
import { loadKeyForUse, type KeyForUse } from '../crypto-services/key-use.js';
import { aesKeyUnwrap, aesKeyWrap, type AesKeyWrapVariant } from './aes-key-wrap.js';

/** The wrapping key of a Get (protect: Active, Wrap Key bit) or the unwrapping key of a Register (process: Unwrap Key bit). */
export async function loadWrappingKey(ctx: OpContext, info: KeyInformation | undefined, direction: 'wrap' | 'unwrap'): Promise<KeyForUse> {
  if (info === undefined) throw new KmipError('KMIP_INVALID_FIELD', 'key wrapping needs Encryption Key Information (the wrapping key\'s Unique Identifier)');
  return loadKeyForUse(ctx, info.uniqueIdentifier, {
    use: direction === 'wrap' ? 'protect' : 'process',
    mask: direction === 'wrap' ? CryptographicUsageMask.WrapKey : CryptographicUsageMask.UnwrapKey,
    operation: direction === 'wrap' ? 'key wrapping' : 'key unwrapping',
    // AES key wrap with a symmetric key; RSA-OAEP with a public key (wrap) / private key (unwrap).
    objectTypes: [ObjectType.SymmetricKey, direction === 'wrap' ? ObjectType.PublicKey : ObjectType.PrivateKey],
  });
}

/** Wrapping Method Encrypt only; MAC/sign wrapping is Feature Not Supported. */
export function checkWrappingMethod(method: number, macInfo: KeyInformation | undefined): void {
  if (method !== WrappingMethod.Encrypt || macInfo !== undefined) {
    throw new KmipError('KMIP_FEATURE_NOT_SUPPORTED', 'only Wrapping Method Encrypt (with Encryption Key Information) is supported');
  }
}

/**
 * The AES key wrap variant of the Cryptographic Parameters (the request's, else the wrapping
 * key's attribute): NIST Key Wrap = RFC 3394, AES Key Wrap Padding = RFC 5649; none named =
 * RFC 3394 when the value allows it (a multiple of 8 bytes, at least 16), RFC 5649 otherwise.
 */
function variantOf(params: CryptographicParameters | undefined): AesKeyWrapVariant | undefined {
  const mode = params?.blockCipherMode;
  if (mode === undefined) return undefined;
  if (mode === BlockCipherMode.NISTKeyWrap) return 'rfc3394';
  if (mode === BlockCipherMode.AESKeyWrapPadding) return 'rfc5649';
  throw new KmipError('KMIP_INVALID_FIELD', `Block Cipher Mode ${mode} is not a key wrap mode (NIST Key Wrap, AES Key Wrap Padding)`);
}

export interface WrapResult {
  readonly wrapped: Buffer;
  /** The parameters used, echoed in the Key Wrapping Data so a client can unwrap. */
  readonly parameters: CryptographicParameters;
}

/**
 * Wraps a Key Value. An RSA wrapping key (a public key) wraps with RSA-OAEP (RFC 8017 §7.1,
 * Hashing Algorithm default SHA-1, MGF1 with the same hash); a symmetric one with AES key wrap.
 */
export function wrapKeyValue(key: KeyForUse, requested: CryptographicParameters | undefined, plaintext: Buffer): WrapResult {
  const params = requested ?? key.parameters;
  if (key.keyObject !== undefined) {
    const oaep = { ...params, paddingMethod: PaddingMethod.OAEP, hashingAlgorithm: params?.hashingAlgorithm ?? HashingAlgorithm.SHA1 };
    return { wrapped: rsaOaepEncrypt(key.keyObject, oaep, plaintext), parameters: oaep };
  }
  let variant = variantOf(params);
  variant ??= plaintext.length >= 16 && plaintext.length % 8 === 0 ? 'rfc3394' : 'rfc5649';
  const blockCipherMode = variant === 'rfc3394' ? BlockCipherMode.NISTKeyWrap : BlockCipherMode.AESKeyWrapPadding;
  return { wrapped: aesKeyWrap(key.material, plaintext, variant), parameters: { ...params, blockCipherMode } };
}

/** Unwraps with the named variant, or (none named) RFC 3394 then RFC 5649: each has its own integrity check. */
export function unwrapKeyValue(key: KeyForUse, requested: CryptographicParameters | undefined, wrapped: Buffer): Buffer {
  if (key.keyObject !== undefined) return rsaOaepDecrypt(key.keyObject, requested ?? key.parameters ?? {}, wrapped);
  const variant = variantOf(requested ?? key.parameters);
  if (variant !== undefined) return aesKeyUnwrap(key.material, wrapped, variant);
  try {
    return aesKeyUnwrap(key.material, wrapped, 'rfc3394');
  } catch {
    return aesKeyUnwrap(key.material, wrapped, 'rfc5649');
  }
}
