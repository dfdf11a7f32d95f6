import { commonNameOf, parseCertificate } from './parse.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface CertificateInfo {
  readonly subjectCn: string;
  readonly issuerCn: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Whole days until notAfter (negative once expired). */
  readonly daysLeft: number;
  /** SHA-256 of the DER certificate, lower-case hex without separators (the pinning fingerprint). */
  readonly sha256Fingerprint: string;
  readonly isCa: boolean;
  readonly serialNumber: string;
  /** Extended Key Usage OIDs; empty when the certificate has no EKU extension. */
  readonly extendedKeyUsage: readonly string[];
}

export function certificateInfo(pem: string, now: Date = new Date()): CertificateInfo {
  const { node, cert } = parseCertificate(pem);
  return {
    subjectCn: commonNameOf(cert.subjectName),
    issuerCn: commonNameOf(cert.issuerName),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    daysLeft: Math.floor((cert.notAfter.getTime() - now.getTime()) / DAY_MS),
    sha256Fingerprint: node.fingerprint256.replace(/:/g, '').toLowerCase(),
    isCa: node.ca,
    serialNumber: cert.serialNumber,
    extendedKeyUsage: node.keyUsage ?? [],
  };
}

/** Normalises a fingerprint as users paste it ("AB:CD:…", spaces, upper case) to lower-case hex. */
export function normalizeFingerprint(fp: string): string {
  return fp.replace(/[\s:]/g, '').toLowerCase();
}
