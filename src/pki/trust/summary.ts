import { certificateInfo, type CertificateInfo } from '../info.js';
import type { ClientIdentitySource, ProviderTrust } from './model.js';

/** The non-secret view of a provider's trust (for `--json`, the REST API and the console). */
export interface TrustSummary {
  readonly trustedServerCerts: readonly CertificateInfo[];
  readonly clientIdentity: {
    readonly source: ClientIdentitySource;
    readonly subjectCn: string;
    readonly sha256Fingerprint: string;
    readonly notAfter: string;
    readonly daysLeft: number;
  } | null;
  readonly pendingCsr: { readonly commonName: string; readonly createdAt: string; readonly csrPem: string } | null;
}

export function trustSummary(trust: ProviderTrust, now: Date = new Date()): TrustSummary {
  const id = trust.clientIdentity;
  return {
    trustedServerCerts: trust.trustedServerCerts.map((p) => certificateInfo(p, now)),
    clientIdentity:
      id === null
        ? null
        : {
            source: id.source,
            subjectCn: id.subjectCn,
            sha256Fingerprint: id.sha256Fingerprint,
            notAfter: id.notAfter,
            daysLeft: certificateInfo(id.certPem, now).daysLeft,
          },
    pendingCsr:
      trust.pendingCsr === null
        ? null
        : { commonName: trust.pendingCsr.commonName, createdAt: trust.pendingCsr.createdAt, csrPem: trust.pendingCsr.csrPem },
  };
}
