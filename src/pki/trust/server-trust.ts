import { certificateInfo } from '../info.js';
import { parseCertificates } from '../parse.js';
import { checkServerTrustAnchor, checkValidity } from '../checks.js';
import { PkiError, PkiErrorCode } from '../errors.js';
import type { ProviderTrust } from './model.js';

/**
 * (a) "Make KMS trust vCenter" reversed: the manager trusts the KMS. Accepts a PEM bundle of
 * KMS CA certificates and/or KMS server certificates (pinned), each valid at `now`. Certificates
 * already trusted (same SHA-256) are not added twice.
 */
export function trustServerCertificate(trust: ProviderTrust, pem: string, now: Date = new Date()): ProviderTrust {
  const certs = parseCertificates(pem, 'KMS certificate');
  for (const c of certs) {
    checkValidity(c, now);
    checkServerTrustAnchor(c);
  }
  const have = new Set(trust.trustedServerCerts.map((p) => certificateInfo(p).sha256Fingerprint));
  const added = certs.filter((c) => !have.has(certificateInfo(c.pem).sha256Fingerprint)).map((c) => c.pem);
  if (trust.trustedServerCerts.length + added.length > 32) {
    throw new PkiError(PkiErrorCode.INVALID_ARGUMENT, 'at most 32 trusted KMS certificates per key provider');
  }
  return { ...trust, trustedServerCerts: [...trust.trustedServerCerts, ...added] };
}

/** Removes a trusted certificate by its SHA-256 fingerprint (hex, any case / colons). */
export function untrustServerCertificate(trust: ProviderTrust, fingerprint: string): ProviderTrust {
  const fp = fingerprint.replace(/[\s:]/g, '').toLowerCase();
  const kept = trust.trustedServerCerts.filter((p) => certificateInfo(p).sha256Fingerprint !== fp);
  if (kept.length === trust.trustedServerCerts.length) {
    throw new PkiError(PkiErrorCode.INVALID_ARGUMENT, `no trusted certificate has fingerprint ${fp.slice(0, 64)}`);
  }
  return { ...trust, trustedServerCerts: kept };
}
