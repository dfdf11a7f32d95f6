import { randomBytes } from 'node:crypto';
import { x509, type CryptoKey } from './x509.js';
import type { SigningAlgorithm } from './keys.js';
import { CertificateUsage } from './types.js';

/** Backdating notBefore absorbs small clock differences between hosts. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** RFC 5280 §4.1.2.2: positive, at most 20 octets; 16 random bytes with the sign bit cleared. */
export function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = ((b[0] ?? 0) & 0x7f) | 0x01;
  return b.toString('hex');
}

export function validity(days: number, now = Date.now()): { notBefore: Date; notAfter: Date } {
  return { notBefore: new Date(now - CLOCK_SKEW_MS), notAfter: new Date(now + days * DAY_MS) };
}

export function jsonName(commonName: string): x509.JsonName {
  return [{ CN: [commonName] }];
}

export async function caExtensions(publicKey: CryptoKey): Promise<x509.Extension[]> {
  return [
    new x509.BasicConstraintsExtension(true, 0, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
  ];
}

export interface LeafExtensionParams {
  readonly usage: CertificateUsage;
  readonly isRsa: boolean;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly publicKey: CryptoKey | x509.PublicKey;
  /** Absent for a self-signed leaf. */
  readonly issuerCert?: x509.X509Certificate;
  /**
   * A self-signed leaf carries no Key Usage: OpenSSL treats a self-issued certificate whose
   * Key Usage lacks keyCertSign as "not self-signed" and then cannot anchor it when pinned.
   */
  readonly selfSigned?: boolean;
}

export async function leafExtensions(p: LeafExtensionParams): Promise<x509.Extension[]> {
  const ext: x509.Extension[] = [new x509.BasicConstraintsExtension(false, undefined, true)];
  if (p.selfSigned !== true) {
    // keyEncipherment only matters for RSA key transport (TLS 1.2 without ECDHE).
    const ku = x509.KeyUsageFlags.digitalSignature | (p.isRsa ? x509.KeyUsageFlags.keyEncipherment : 0);
    ext.push(new x509.KeyUsagesExtension(ku, true));
  }
  const eku: string[] = [];
  if (p.usage !== CertificateUsage.CLIENT) eku.push(x509.ExtendedKeyUsage.serverAuth);
  if (p.usage !== CertificateUsage.SERVER) eku.push(x509.ExtendedKeyUsage.clientAuth);
  ext.push(new x509.ExtendedKeyUsageExtension(eku, false));
  const san: x509.JsonGeneralName[] = [
    ...p.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...p.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
  ];
  if (san.length > 0) ext.push(new x509.SubjectAlternativeNameExtension(san, false));
  ext.push(await x509.SubjectKeyIdentifierExtension.create(p.publicKey));
  if (p.issuerCert !== undefined) ext.push(await x509.AuthorityKeyIdentifierExtension.create(p.issuerCert));
  return ext;
}

/** Default server SANs (always added for server certificates): the loopback names every lab and test uses. */
export function serverSans(usage: CertificateUsage, dnsNames: readonly string[], ips: readonly string[]): {
  dnsNames: string[];
  ipAddresses: string[];
} {
  if (usage === CertificateUsage.CLIENT) return { dnsNames: [...dnsNames], ipAddresses: [...ips] };
  return {
    dnsNames: [...new Set(['localhost', ...dnsNames])],
    ipAddresses: [...new Set(['127.0.0.1', ...ips])],
  };
}

export function isRsaAlg(alg: SigningAlgorithm): boolean {
  return alg.importParams.name.startsWith('RSA');
}
