import { PkiError, PkiErrorCode } from '../errors.js';
import { MAX_PEM_BYTES } from '../parse.js';

/** How the manager got its client identity for a key provider (the four vCenter ways, b–d). */
export const ClientIdentitySource = {
  /** (b) certificate + key uploaded, signed by the KMS CA. */
  UPLOADED: 'uploaded',
  /** (c) CSR generated here, signed by the KMS admin, signed certificate uploaded. */
  CSR: 'csr',
  /** (d) self-signed certificate generated here, pinned on the KMS by fingerprint. */
  SELF_SIGNED: 'self-signed',
} as const;
export type ClientIdentitySource = (typeof ClientIdentitySource)[keyof typeof ClientIdentitySource];

export interface ClientIdentity {
  readonly source: ClientIdentitySource;
  /** Leaf first, then any intermediates the client should send. */
  readonly certPem: string;
  /** sealPrivateKey() output: the key never rests in clear. */
  readonly sealedKey: string;
  readonly subjectCn: string;
  readonly sha256Fingerprint: string;
  readonly notAfter: string;
}

export interface PendingCsr {
  readonly csrPem: string;
  readonly sealedKey: string;
  readonly commonName: string;
  readonly createdAt: string;
}

/**
 * What the manager persists per key provider for TLS trust (JSON, no secret in clear).
 * Immutable: every operation returns a new value.
 */
export interface ProviderTrust {
  readonly version: 1;
  /** (a) KMS CA certificates or pinned KMS server certificates the manager trusts. */
  readonly trustedServerCerts: readonly string[];
  readonly clientIdentity: ClientIdentity | null;
  readonly pendingCsr: PendingCsr | null;
}

export function emptyTrust(): ProviderTrust {
  return { version: 1, trustedServerCerts: [], clientIdentity: null, pendingCsr: null };
}

/** A bound on the persisted document (trusted certs × PEM size, plus identity). */
const MAX_TRUST_JSON = 40 * MAX_PEM_BYTES;

function str(v: unknown, what: string, max = MAX_PEM_BYTES): string {
  if (typeof v !== 'string' || v.length > max) throw new PkiError(PkiErrorCode.INVALID_ARGUMENT, `trust document: ${what} is invalid`);
  return v;
}

/** Parses and validates a persisted ProviderTrust (bounded; unknown fields dropped). */
export function parseTrust(json: string): ProviderTrust {
  if (json.length > MAX_TRUST_JSON) throw new PkiError(PkiErrorCode.INVALID_ARGUMENT, 'trust document is too large');
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new PkiError(PkiErrorCode.INVALID_ARGUMENT, 'trust document is not JSON');
  }
  if (typeof raw !== 'object' || raw === null) throw new PkiError(PkiErrorCode.INVALID_ARGUMENT, 'trust document is not an object');
  const o = raw as Record<string, unknown>;
  if (o['version'] !== 1) throw new PkiError(PkiErrorCode.INVALID_ARGUMENT, `trust document version ${String(o['version'])} is not supported`);
  const certs = o['trustedServerCerts'];
  if (!Array.isArray(certs) || certs.length > 32) throw new PkiError(PkiErrorCode.INVALID_ARGUMENT, 'trust document: trustedServerCerts is invalid');
  const ci = o['clientIdentity'];
  const pc = o['pendingCsr'];
  let clientIdentity: ClientIdentity | null = null;
  if (ci !== null && ci !== undefined) {
    const c = ci as Record<string, unknown>;
    const source = c['source'];
    if (source !== 'uploaded' && source !== 'csr' && source !== 'self-signed') {
      throw new PkiError(PkiErrorCode.INVALID_ARGUMENT, 'trust document: clientIdentity.source is invalid');
    }
    clientIdentity = {
      source,
      certPem: str(c['certPem'], 'clientIdentity.certPem'),
      sealedKey: str(c['sealedKey'], 'clientIdentity.sealedKey'),
      subjectCn: str(c['subjectCn'], 'clientIdentity.subjectCn', 256),
      sha256Fingerprint: str(c['sha256Fingerprint'], 'clientIdentity.sha256Fingerprint', 64),
      notAfter: str(c['notAfter'], 'clientIdentity.notAfter', 64),
    };
  }
  let pendingCsr: PendingCsr | null = null;
  if (pc !== null && pc !== undefined) {
    const p = pc as Record<string, unknown>;
    pendingCsr = {
      csrPem: str(p['csrPem'], 'pendingCsr.csrPem'),
      sealedKey: str(p['sealedKey'], 'pendingCsr.sealedKey'),
      commonName: str(p['commonName'], 'pendingCsr.commonName', 256),
      createdAt: str(p['createdAt'], 'pendingCsr.createdAt', 64),
    };
  }
  return { version: 1, trustedServerCerts: certs.map((c, i) => str(c, `trustedServerCerts[${i}]`)), clientIdentity, pendingCsr };
}

export function serializeTrust(trust: ProviderTrust): string {
  return JSON.stringify(trust);
}
