import { createHmac } from 'node:crypto';

/** Bytes of the key check value stored beside GCM ciphertexts. */
export const KEY_CHECK_BYTES = 16;

/**
 * Key check value: HMAC-SHA256(key, label ‖ nonce) truncated to 16 bytes. Stored next to a GCM
 * ciphertext it lets us tell a wrong key (WRONG_KEY) from modified data (TAMPERED), and makes
 * the format key-committing (GCM alone is not). With a fresh random nonce it reveals nothing.
 */
export function keyCheckValue(key: Uint8Array, label: string, nonce: Uint8Array): Buffer {
  return createHmac('sha256', key).update(label).update(nonce).digest().subarray(0, KEY_CHECK_BYTES);
}
