/**
 * Bounds of the cryptographic services, checked before any work. A request message is at most
 * 1 MiB (the TTLV limit), so these only tighten it where a smaller value is the real need.
 */
export const CryptoLimits = {
  /** Data of Encrypt, Decrypt, MAC, MAC Verify, Sign, Signature Verify: one request item. */
  MAX_DATA_BYTES: 1024 * 1024,
  /** GCM Additional Authenticated Data. */
  MAX_AAD_BYTES: 64 * 1024,
  /** IV / counter / nonce (GCM accepts any length; 128 bytes is far above any real one). */
  MAX_IV_BYTES: 128,
  /** PBKDF2 iterations: above this one request would hold a thread-pool worker for seconds. */
  MAX_PBKDF2_ITERATIONS: 1_000_000,
  /** Salt of PBKDF2 / HKDF and Derivation Data. */
  MAX_DERIVATION_INPUT_BYTES: 64 * 1024,
  /** Length of a derived key or secret, in bytes. */
  MAX_DERIVED_BYTES: 512,
} as const;
