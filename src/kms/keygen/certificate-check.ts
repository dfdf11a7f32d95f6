import { X509Certificate, type KeyObject } from 'node:crypto';
import { CertificateType, CryptographicAlgorithm } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import { keyFacts } from './asymmetric-formats.js';

/** What the server records of a registered certificate: its subject key's algorithm and length. */
export interface CertificateFacts {
  readonly algorithm: number;
  readonly lengthBits: number;
}

/**
 * Checks a Certificate object's value (KMIP 1.4 §2.2.1): type X.509 and exactly one DER
 * certificate that OpenSSL parses (no PEM, nothing after it). The subject public key must be RSA
 * or EC P-256/384/521, so Cryptographic Algorithm/Length can be recorded (§3.4–3.5).
 */
export function checkCertificate(certificateType: number, der: Buffer): CertificateFacts {
  if (certificateType !== CertificateType.X509) throw new KmipError('KMIP_INVALID_FIELD', `Certificate Type ${certificateType} is not supported (X.509 only)`);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch {
    throw new KmipError('KMIP_INVALID_FIELD', 'the certificate value is not a DER X.509 certificate');
  }
  if (!cert.raw.equals(der)) throw new KmipError('KMIP_INVALID_FIELD', 'the certificate value must be exactly one DER certificate');
  let subjectKey: KeyObject;
  try {
    subjectKey = cert.publicKey; // OpenSSL parses the subject key only now
  } catch {
    throw new KmipError('KMIP_INVALID_FIELD', "the certificate's subject public key does not parse");
  }
  const facts = keyFacts(subjectKey);
  return { algorithm: facts.family === 'rsa' ? CryptographicAlgorithm.RSA : CryptographicAlgorithm.EC, lengthBits: facts.lengthBits };
}
