import { RecommendedCurve } from '../../kmip/enums.js';

/** The EC curves vmcrypt serves: KMIP's Recommended Curve, Node's names, the field size. */
export interface Curve {
  readonly recommended: number;
  /** OpenSSL name (KeyObject asymmetricKeyDetails.namedCurve, createECDH). */
  readonly openssl: string;
  /** JWK `crv` (RFC 7518 §6.2.1.1) and generateKeyPair's namedCurve. */
  readonly jwk: string;
  readonly bits: number;
  readonly bytes: number;
}

export const curves: readonly Curve[] = [
  { recommended: RecommendedCurve.P256, openssl: 'prime256v1', jwk: 'P-256', bits: 256, bytes: 32 },
  { recommended: RecommendedCurve.P384, openssl: 'secp384r1', jwk: 'P-384', bits: 384, bytes: 48 },
  { recommended: RecommendedCurve.P521, openssl: 'secp521r1', jwk: 'P-521', bits: 521, bytes: 66 },
];

export const curveByBits = (bits: number): Curve | undefined => curves.find((c) => c.bits === bits);
export const curveByRecommended = (r: number): Curve | undefined => curves.find((c) => c.recommended === r);
export const curveByOpenssl = (name: string | undefined): Curve | undefined => curves.find((c) => c.openssl === name || c.jwk === name);
