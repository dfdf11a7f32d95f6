import { createPublicKey, type KeyObject } from 'node:crypto';
import { PkiError, PkiErrorCode } from './errors.js';
import { commonNameOf, type ParsedCertificate } from './parse.js';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EKU = '2.5.29.37.0';

function label(c: ParsedCertificate): string {
  return `'${commonNameOf(c.cert.subjectName) || c.cert.subject}'`;
}

/** Refuses a certificate outside its validity window at `now`. */
export function checkValidity(c: ParsedCertificate, now: Date): void {
  if (now.getTime() > c.cert.notAfter.getTime()) {
    throw new PkiError(PkiErrorCode.EXPIRED, `certificate ${label(c)} expired on ${c.cert.notAfter.toISOString()}`);
  }
  if (now.getTime() < c.cert.notBefore.getTime()) {
    throw new PkiError(PkiErrorCode.NOT_YET_VALID, `certificate ${label(c)} is not valid before ${c.cert.notBefore.toISOString()}`);
  }
}

/** A certificate a TLS client may present: not a CA, and EKU (when present) allows clientAuth. */
export function checkClientUsage(c: ParsedCertificate): void {
  if (c.node.ca) throw new PkiError(PkiErrorCode.NOT_CLIENT_CERT, `certificate ${label(c)} is a CA certificate, not a client certificate`);
  const eku = c.node.keyUsage;
  if (eku !== undefined && eku.length > 0 && !eku.includes(CLIENT_AUTH) && !eku.includes(ANY_EKU)) {
    throw new PkiError(PkiErrorCode.NOT_CLIENT_CERT, `certificate ${label(c)} does not allow TLS client authentication (no clientAuth extended key usage)`);
  }
}

/** A certificate that can anchor trust in a KMS: a CA, or a server leaf (pinned) allowing serverAuth. */
export function checkServerTrustAnchor(c: ParsedCertificate): void {
  if (c.node.ca) return;
  const eku = c.node.keyUsage;
  if (eku !== undefined && eku.length > 0 && !eku.includes(SERVER_AUTH) && !eku.includes(ANY_EKU)) {
    throw new PkiError(PkiErrorCode.NOT_CA_CERT, `certificate ${label(c)} is neither a CA nor a TLS server certificate`);
  }
}

/** Refuses a private key that is not the one of the certificate. */
export function checkKeyMatches(c: ParsedCertificate, key: KeyObject): void {
  const certSpki = c.node.publicKey.export({ format: 'der', type: 'spki' });
  const keySpki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  if (!certSpki.equals(keySpki)) {
    throw new PkiError(PkiErrorCode.KEY_MISMATCH, `the private key does not belong to certificate ${label(c)}`);
  }
}

function issuedBy(child: ParsedCertificate, issuer: ParsedCertificate): boolean {
  return child.node.checkIssued(issuer.node) && child.node.verify(issuer.node.publicKey);
}

/**
 * Verifies that `leaf` chains to one of `anchors` through `intermediates` (each a CA), by
 * signature, names and validity at `now`. At most 5 links. Returns the anchor used.
 */
export function verifyChain(
  leaf: ParsedCertificate,
  intermediates: readonly ParsedCertificate[],
  anchors: readonly ParsedCertificate[],
  now: Date,
): ParsedCertificate {
  let current = leaf;
  for (let depth = 0; depth < 5; depth++) {
    // A pinned leaf is its own anchor.
    const pinned = anchors.find((a) => a.node.raw.equals(current.node.raw));
    if (pinned !== undefined) return pinned;
    const anchor = anchors.find((a) => a.node.ca && issuedBy(current, a));
    if (anchor !== undefined) {
      checkValidity(anchor, now);
      return anchor;
    }
    const next = intermediates.find((i) => i.node.ca && issuedBy(current, i));
    if (next === undefined) break;
    checkValidity(next, now);
    current = next;
  }
  const names = anchors.map((a) => label(a)).join(', ') || 'none';
  throw new PkiError(PkiErrorCode.WRONG_ISSUER, `certificate ${label(leaf)} (issuer '${commonNameOf(leaf.cert.issuerName)}') is not signed by a trusted CA (trusted: ${names})`);
}
