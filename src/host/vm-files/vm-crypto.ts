import { generateDek } from '../../crypto/dek.js';
import { CryptoError } from '../../crypto/errors.js';
import { openSealed, seal } from '../../crypto/gcm-seal.js';
import type { SealContext } from '../../crypto/seal-context.js';
import { unwrapDek, wrapDek } from '../../crypto/wrap.js';
import { HostError } from '../errors.js';

export { generateDek };

/**
 * Host-side wrappers over src/crypto that turn its errors into HostErrors naming the file
 * and the VM, so an operator reads "NAME.vmx: keySafe wrapped DEK does not unwrap …"
 * rather than a bare TAMPERED. No key bytes ever reach a message.
 */
export function wrapDekFor(kek: Buffer, dek: Buffer, keyId: string): string {
  return wrapDek(kek, dek, keyId);
}

export function unwrapDekFor(kek: Buffer, wrapped: string, keyId: string, what: string): Buffer {
  try {
    return unwrapDek(kek, wrapped, keyId);
  } catch (err) {
    throw asHostError(err, what);
  }
}

export function sealWith(key: Buffer, plaintext: Buffer, context: SealContext): Buffer {
  return seal(key, plaintext, context);
}

/**
 * Opens a box sealed for `context`; `legacyAad` is the raw AAD the pre-2.0 code bound its
 * version-1 envelopes to, so files written before the one sealing primitive still open.
 */
export function openWith(key: Buffer, sealed: Buffer, context: SealContext, legacyAad: string, what: string): Buffer {
  try {
    return openSealed(key, sealed, context, { v1Aad: Buffer.from(legacyAad, 'utf8') });
  } catch (err) {
    throw asHostError(err, what);
  }
}

function asHostError(err: unknown, what: string): unknown {
  if (!(err instanceof CryptoError)) return err;
  switch (err.code) {
    case 'WRONG_KEY':
      return new HostError('HOST_VMX_TAMPERED', `${what}: the key in the cache does not open it (wrong key, or the file was tampered with)`, { cause: err });
    case 'TAMPERED':
      return new HostError('HOST_VMX_TAMPERED', `${what}: failed authentication — the file was modified or damaged; nothing was changed`, { cause: err });
    default:
      return new HostError('HOST_VMX_INVALID', `${what}: ${err.message}`, { cause: err });
  }
}
