import { KmipError } from '../errors.js';
import { Tag } from '../tags.js';
import { Fields, ttlv, type TtlvItem } from '../ttlv/index.js';

/** Largest certificate vmcrypt stores; real X.509 certificates are a few KiB. */
export const MAX_CERTIFICATE_BYTES = 64 * 1024;

/**
 * A Certificate object (KMIP 1.4 §2.2.1): Certificate Type and Certificate Value (DER for X.509).
 * Not secret; whether the value parses is checked by the server (src/kms/keygen/).
 */
export interface Certificate {
  readonly certificateType: number;
  readonly value: Buffer;
}

export function encodeCertificate(c: Certificate): TtlvItem {
  return ttlv.struct(Tag.Certificate, [ttlv.enumeration(Tag.CertificateType, c.certificateType), ttlv.bytes(Tag.CertificateValue, c.value)]);
}

export function decodeCertificate(item: TtlvItem): Certificate {
  const f = new Fields(item, Tag.Certificate);
  const certificateType = f.required(Tag.CertificateType, 'Enumeration');
  const value = f.required(Tag.CertificateValue, 'ByteString');
  if (value.length === 0 || value.length > MAX_CERTIFICATE_BYTES) {
    throw new KmipError('KMIP_INVALID_FIELD', `a certificate must be 1 to ${MAX_CERTIFICATE_BYTES} bytes`);
  }
  return { certificateType, value };
}
