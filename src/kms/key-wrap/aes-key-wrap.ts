import { createCipheriv, createDecipheriv } from 'node:crypto';
import { KmipError } from '../../kmip/errors.js';

/**
 * AES Key Wrap through OpenSSL: RFC 3394 (KMIP Block Cipher Mode "NIST Key Wrap", SP 800-38F KW)
 * and RFC 5649 with padding ("AES Key Wrap Padding", KWP), each with the RFC's default initial
 * value. Both carry an integrity check: a wrong key or altered bytes fail the unwrap.
 */
export type AesKeyWrapVariant = 'rfc3394' | 'rfc5649';

// RFC 3394 §2.2.3.1 default IV; RFC 5649 §3 Alternative Initial Value (its 32-bit constant).
const IV = { rfc3394: Buffer.from('a6a6a6a6a6a6a6a6', 'hex'), rfc5649: Buffer.from('a65959a6', 'hex') } as const;

function cipherName(kek: Buffer, variant: AesKeyWrapVariant): string {
  if (![16, 24, 32].includes(kek.length)) throw new KmipError('KMIP_INVALID_FIELD', `an AES wrapping key is 128, 192 or 256 bits, not ${kek.length * 8}`);
  return `id-aes${kek.length * 8}-wrap${variant === 'rfc5649' ? '-pad' : ''}`;
}

/** The largest key value vmcrypt wraps (an RSA-4096 private key in TTLV is ~2.5 KiB). */
export const MAX_WRAPPED_BYTES = 64 * 1024;

export function aesKeyWrap(kek: Buffer, plaintext: Buffer, variant: AesKeyWrapVariant): Buffer {
  // RFC 3394 §2: n ≥ 2 blocks of 64 bits; RFC 5649: 1 byte or more.
  const ok = variant === 'rfc3394' ? plaintext.length >= 16 && plaintext.length % 8 === 0 : plaintext.length >= 1;
  if (!ok || plaintext.length > MAX_WRAPPED_BYTES) {
    throw new KmipError('KMIP_INVALID_FIELD', `${variant === 'rfc3394' ? 'NIST Key Wrap (RFC 3394) wraps a multiple of 8 bytes, at least 16' : 'AES Key Wrap Padding wraps 1 byte or more'} (up to ${MAX_WRAPPED_BYTES}); this value is ${plaintext.length}`);
  }
  const c = createCipheriv(cipherName(kek, variant), kek, IV[variant]);
  return Buffer.concat([c.update(plaintext), c.final()]);
}

/** Unwraps; Cryptographic Failure when the integrity check fails (wrong key, altered bytes). */
export function aesKeyUnwrap(kek: Buffer, wrapped: Buffer, variant: AesKeyWrapVariant): Buffer {
  if (wrapped.length < 16 || wrapped.length % 8 !== 0 || wrapped.length > MAX_WRAPPED_BYTES + 16) {
    throw new KmipError('KMIP_INVALID_FIELD', `a wrapped key is a multiple of 8 bytes, at least 16; this one is ${wrapped.length}`);
  }
  const d = createDecipheriv(cipherName(kek, variant), kek, IV[variant]);
  let first: Buffer | undefined;
  try {
    first = d.update(wrapped);
    return Buffer.concat([first, d.final()]);
  } catch (err) {
    first?.fill(0);
    throw new KmipError('KMIP_CRYPTOGRAPHIC_FAILURE', 'unwrapping failed: wrong unwrapping key, or the wrapped key was altered', { cause: err });
  } finally {
    // Buffer.concat copied it.
    first?.fill(0);
  }
}
