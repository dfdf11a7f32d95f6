/** A certificate and its private key, both PEM (the key PKCS#8). */
export interface CertificateAndKey {
  readonly certPem: string;
  readonly keyPem: string;
}

/** What a leaf certificate is for: the TLS server side, the client side, or both (Extended Key Usage). */
export const CertificateUsage = {
  SERVER: 'server',
  CLIENT: 'client',
  BOTH: 'both',
} as const;
export type CertificateUsage = (typeof CertificateUsage)[keyof typeof CertificateUsage];

export const DEFAULT_CA_DAYS = 3650;
/** 825 days: the longest validity mainstream TLS clients accept for a leaf. */
export const DEFAULT_LEAF_DAYS = 825;
export const MAX_DAYS = 36500;
