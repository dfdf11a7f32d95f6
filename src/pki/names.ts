import { PkiError, PkiErrorCode } from './errors.js';
import { MAX_DAYS, CertificateUsage } from './types.js';
import { isIP } from 'node:net';

/** X.520 upper bound for a common name. */
const MAX_CN = 64;

/** Validates a subject common name. Passed to the X.509 library as a JSON name, so no DN escaping is needed. */
export function checkCommonName(commonName: unknown): string {
  if (typeof commonName !== 'string' || commonName.length === 0 || commonName.length > MAX_CN) {
    throw new PkiError(PkiErrorCode.INVALID_ARGUMENT, `commonName must be 1..${MAX_CN} characters`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(commonName)) {
    throw new PkiError(PkiErrorCode.INVALID_ARGUMENT, 'commonName must not contain control characters');
  }
  return commonName;
}

export function checkDays(days: number | undefined, fallback: number): number {
  const d = days ?? fallback;
  if (!Number.isInteger(d) || d < 1 || d > MAX_DAYS) {
    throw new PkiError(PkiErrorCode.INVALID_ARGUMENT, `days must be an integer 1..${MAX_DAYS}`);
  }
  return d;
}

export function checkUsage(usage: unknown): CertificateUsage {
  if (usage === CertificateUsage.SERVER || usage === CertificateUsage.CLIENT || usage === CertificateUsage.BOTH) return usage;
  throw new PkiError(PkiErrorCode.INVALID_ARGUMENT, `usage must be 'server', 'client' or 'both'`);
}

export function checkDnsNames(names: readonly string[]): string[] {
  for (const n of names) {
    if (typeof n !== 'string' || n.length === 0 || n.length > 253 || !/^[A-Za-z0-9*]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(n)) {
      throw new PkiError(PkiErrorCode.INVALID_ARGUMENT, `'${String(n).slice(0, 80)}' is not a valid DNS name`);
    }
  }
  return [...names];
}

export function checkIpAddresses(ips: readonly string[]): string[] {
  for (const ip of ips) {
    if (typeof ip !== 'string' || isIP(ip) === 0) {
      throw new PkiError(PkiErrorCode.INVALID_ARGUMENT, `'${String(ip).slice(0, 80)}' is not an IP address`);
    }
  }
  return [...ips];
}
