/**
 * KMIP 1.0–1.4 enumerations of keys and key-bearing objects (KMIP 1.4 §9.1.3.2): key formats,
 * certificate types, curves, split-key methods. Re-exported by enums.ts; values are the wire values.
 */

/** §9.1.3.2.3 */
export const KeyFormatType = {
  Raw: 0x01,
  Opaque: 0x02,
  PKCS1: 0x03,
  PKCS8: 0x04,
  X509: 0x05,
  ECPrivateKey: 0x06,
  TransparentSymmetricKey: 0x07,
  TransparentDSAPrivateKey: 0x08,
  TransparentDSAPublicKey: 0x09,
  TransparentRSAPrivateKey: 0x0a,
  TransparentRSAPublicKey: 0x0b,
  TransparentDHPrivateKey: 0x0c,
  TransparentDHPublicKey: 0x0d,
  TransparentECDSAPrivateKey: 0x0e,
  TransparentECDSAPublicKey: 0x0f,
  TransparentECDHPrivateKey: 0x10,
  TransparentECDHPublicKey: 0x11,
  TransparentECMQVPrivateKey: 0x12,
  TransparentECMQVPublicKey: 0x13,
  /** KMIP 1.3 */
  TransparentECPrivateKey: 0x14,
  TransparentECPublicKey: 0x15,
  PKCS12: 0x16,
} as const;

/** §9.1.3.2.6 */
export const CertificateType = {
  X509: 0x01,
  PGP: 0x02,
} as const;

/** §9.1.3.2.5 (the NIST prime curves; vmcrypt serves P-256, P-384, P-521) */
export const RecommendedCurve = {
  P192: 0x01,
  P224: 0x04,
  P256: 0x07,
  P384: 0x0a,
  P521: 0x0d,
} as const;

/** §9.1.3.2.8 */
export const SplitKeyMethod = {
  XOR: 0x01,
  PolynomialSharingGF2_16: 0x02,
  PolynomialSharingPrimeField: 0x03,
  /** KMIP 1.2 */
  PolynomialSharingGF2_8: 0x04,
} as const;
