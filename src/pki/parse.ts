import { X509Certificate as NodeX509 } from 'node:crypto';
import { x509 } from './x509.js';
import { PkiError, PkiErrorCode } from './errors.js';

/** Upper bound on any PEM we parse (certificates, CSRs, keys); real ones are a few KiB. */
export const MAX_PEM_BYTES = 64 * 1024;

const CERT_RE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function bounded(pem: unknown, what: string): string {
  if (typeof pem !== 'string' || pem.length === 0) {
    throw new PkiError(PkiErrorCode.BAD_PEM, `${what} is empty or not text`);
  }
  if (pem.length > MAX_PEM_BYTES) {
    throw new PkiError(PkiErrorCode.BAD_PEM, `${what} is larger than ${MAX_PEM_BYTES} bytes`);
  }
  return pem;
}

/** Both views of one certificate: Node's (verification, key checks) and @peculiar's (names, extensions). */
export interface ParsedCertificate {
  readonly pem: string;
  readonly node: NodeX509;
  readonly cert: x509.X509Certificate;
}

/** Parses exactly one PEM certificate (the first if several are given). */
export function parseCertificate(pem: unknown, what = 'certificate'): ParsedCertificate {
  const all = parseCertificates(pem, what);
  return all[0] as ParsedCertificate;
}

/** Parses a PEM bundle of one or more certificates (at most 16). */
export function parseCertificates(pem: unknown, what = 'certificate'): ParsedCertificate[] {
  const text = bounded(pem, what);
  const blocks = text.match(CERT_RE) ?? [];
  if (blocks.length === 0) throw new PkiError(PkiErrorCode.BAD_PEM, `${what} holds no PEM certificate`);
  if (blocks.length > 16) throw new PkiError(PkiErrorCode.BAD_PEM, `${what} holds more than 16 certificates`);
  return blocks.map((block) => {
    try {
      const normalized = block.replace(/\r\n/g, '\n') + '\n';
      return { pem: normalized, node: new NodeX509(normalized), cert: new x509.X509Certificate(normalized) };
    } catch (e) {
      throw new PkiError(PkiErrorCode.BAD_PEM, `${what} is not a valid X.509 certificate`, { cause: e });
    }
  });
}

export function parseCsr(pem: unknown): x509.Pkcs10CertificateRequest {
  const text = bounded(pem, 'certificate signing request');
  try {
    return new x509.Pkcs10CertificateRequest(text.trim());
  } catch (e) {
    throw new PkiError(PkiErrorCode.BAD_PEM, 'the certificate signing request is not a valid PKCS#10 PEM', { cause: e });
  }
}

/** The first CN of a name, or '' when it has none. */
export function commonNameOf(name: x509.Name): string {
  return name.getField('CN')[0] ?? '';
}
