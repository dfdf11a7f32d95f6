import { createHmac } from 'node:crypto';

/**
 * A non-secret identifier of a master key, for EtcdKeyStoreOptions.masterKeyId: every KMS node
 * of one cluster must share one master key, and this lets the store refuse a node that does
 * not. HMAC-SHA-256 under the key itself (one-way; reveals nothing of it), first 128 bits, hex.
 */
export function masterKeyIdOf(masterKey: Buffer): string {
  return createHmac('sha256', masterKey).update('vmcrypt kms master key id v1').digest('hex').slice(0, 32);
}
