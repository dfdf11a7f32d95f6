import { CryptoError } from '../../crypto/errors.js';
import { openSealed, seal } from '../../crypto/gcm-seal.js';
import { SealPurpose } from '../../crypto/seal-purpose.js';
import { deriveKmsKey, KmsKeyLabel } from '../derived-keys.js';
import { KmsError } from '../errors.js';

const context = { purpose: SealPurpose.PKI_PRIVATE_KEY, binding: ['kms-ca'] } as const;

/**
 * The CA private key at rest (`pki/ca.key.sealed`), sealed like everything else: a gcm-seal box
 * under a key derived from the master key. Issuing a client certificate needs the KMS unsealed
 * (shares or the auto-unseal file), as Vault's PKI does.
 */
export function sealCaKey(masterKey: Buffer, keyPem: string): Buffer {
  const k = deriveKmsKey(masterKey, KmsKeyLabel.CA_KEY);
  const pem = Buffer.from(keyPem, 'utf8');
  try {
    return seal(k, pem, context);
  } finally {
    k.fill(0);
    pem.fill(0);
  }
}

export function openCaKey(masterKey: Buffer, box: Buffer): string {
  const k = deriveKmsKey(masterKey, KmsKeyLabel.CA_KEY);
  try {
    const pem = openSealed(k, box, context);
    const text = pem.toString('utf8');
    pem.fill(0);
    return text;
  } catch (err) {
    if (err instanceof CryptoError) throw new KmsError('UNSEAL_FAILED', 'the sealed CA key does not open with this master key (wrong key or modified file)', { cause: err });
    throw err;
  } finally {
    k.fill(0);
  }
}
