import { certificateInfo } from '../info.js';
import { commonNameOf, parseCertificates, type ParsedCertificate } from '../parse.js';
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
  const known = [...certs, ...trust.trustedServerCerts.flatMap((p) => parseCertificates(p))];
  for (const c of certs) {
    checkValidity(c, now);
    checkServerTrustAnchor(c);
    if (!c.node.ca) checkLeafAnchorable(c, known);
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

/**
 * TLS stacks (OpenSSL under Node and Python) only anchor trust in a self-signed certificate or
 * a CA: a CA-issued server leaf on its own would never verify. Accept such a leaf only when its
 * issuer comes with it (same bundle) or is trusted already; else say which CA to upload.
 */
function checkLeafAnchorable(leaf: ParsedCertificate, known: readonly ParsedCertificate[]): void {
  const selfSigned = leaf.node.checkIssued(leaf.node) && leaf.node.verify(leaf.node.publicKey);
  if (selfSigned) return;
  const issuer = known.find((k) => k.node.ca && leaf.node.checkIssued(k.node) && leaf.node.verify(k.node.publicKey));
  if (issuer !== undefined) return;
  throw new PkiError(
    PkiErrorCode.WRONG_ISSUER,
    `KMS certificate '${commonNameOf(leaf.cert.subjectName)}' is issued by '${commonNameOf(leaf.cert.issuerName)}', ` +
      'which is not trusted: upload that CA certificate (or a bundle holding it) instead',
  );
}
