import { hkdfSync } from 'node:crypto';
import { abytes } from '../crypto/guards.js';

/**
 * Every key the KMS uses besides the master key itself is derived from it with HKDF-SHA-256
 * (RFC 5869), one `info` label per use, so a key for one use (record MACs) reveals nothing of
 * another (sealing key material, the CA key) and all of them follow a master-key rotation.
 */
export const KmsKeyLabel = {
  RECORD_MAC: 'vmcrypt kms record mac v1',
  CA_KEY: 'vmcrypt kms ca key v1',
  BACKUP_FILES: 'vmcrypt kms backup files v1',
} as const;
export type KmsKeyLabel = (typeof KmsKeyLabel)[keyof typeof KmsKeyLabel];

/** A 32-byte key for `label`; the caller zeroes it. */
export function deriveKmsKey(masterKey: Buffer, label: KmsKeyLabel): Buffer {
  abytes(masterKey, 32, 'masterKey');
  const out = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), label, 32));
  return out;
}
