import { VmcryptError } from '../errors.js';

/** Stable codes of every PKI / trust-setup failure (listed in docs/pki.md). */
export const PkiErrorCode = {
  /** A PEM input could not be parsed as the expected object (certificate, key, CSR). */
  BAD_PEM: 'PKI_BAD_PEM',
  /** The key algorithm is not one we issue or accept (ECDSA P-256/P-384, RSA ≥ 2048). */
  UNSUPPORTED_KEY: 'PKI_UNSUPPORTED_KEY',
  /** A CSR's self-signature does not verify. */
  BAD_CSR_SIGNATURE: 'PKI_BAD_CSR_SIGNATURE',
  /** A certificate was not issued by the CA it should chain to. */
  WRONG_ISSUER: 'PKI_WRONG_ISSUER',
  /** The private key does not belong to the certificate. */
  KEY_MISMATCH: 'PKI_KEY_MISMATCH',
  /** The certificate is expired or not yet valid. */
  EXPIRED: 'PKI_EXPIRED',
  NOT_YET_VALID: 'PKI_NOT_YET_VALID',
  /** The certificate cannot be used as a TLS client (no clientAuth EKU, or a CA certificate). */
  NOT_CLIENT_CERT: 'PKI_NOT_CLIENT_CERT',
  /** A certificate offered as a trust anchor or issuer is unusable as one. */
  NOT_CA_CERT: 'PKI_NOT_CA_CERT',
  /** The sealed private key is damaged, or the master key is wrong. */
  UNSEAL_FAILED: 'PKI_UNSEAL_FAILED',
  /** Bad argument (days out of range, wrong master key length, …). */
  INVALID_ARGUMENT: 'PKI_INVALID_ARGUMENT',
  /** A trust-setup step was called in the wrong state (e.g. accept a signed cert with no CSR pending). */
  INVALID_STATE: 'PKI_INVALID_STATE',
} as const;
export type PkiErrorCode = (typeof PkiErrorCode)[keyof typeof PkiErrorCode];

export class PkiError extends VmcryptError {
  constructor(code: PkiErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
