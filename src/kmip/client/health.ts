import { certificateInfo } from '../../pki/index.js';
import type { KmipClient } from './client.js';
import { KmipClientError } from './errors.js';

/** Certificates expiring within this many days make the health status 'warning'. */
export const DEFAULT_EXPIRY_WARNING_DAYS = 30;

export const HealthStatus = {
  ok: 'ok',
  /** Answers, but its certificate expires soon (or has expired). */
  warning: 'warning',
  /** Does not answer (see `error`). */
  error: 'error',
} as const;
export type HealthStatus = (typeof HealthStatus)[keyof typeof HealthStatus];

export interface PeerCertificateSummary {
  readonly subjectCn: string;
  readonly issuerCn: string;
  /** ISO 8601. */
  readonly notAfter: string;
  /** Whole days until notAfter; negative once expired. */
  readonly daysLeft: number;
  /** Lower-case hex SHA-256 of the DER certificate (what one pins). */
  readonly sha256Fingerprint: string;
}

/** One key server's health, as the manager shows it. JSON-safe; never holds key bytes. */
export interface ServerHealth {
  /** "host:port" */
  readonly server: string;
  readonly status: HealthStatus;
  /** Round-trip time of Discover Versions, when it answered. */
  readonly latencyMs?: number;
  /** Protocol versions the server accepts, e.g. ["1.4", "1.2"]. */
  readonly versions?: readonly string[];
  /** From the TLS session (the last one when the check failed after the handshake). */
  readonly certificate?: PeerCertificateSummary;
  readonly error?: { readonly code: string; readonly message: string };
  /** ISO 8601. */
  readonly checkedAt: string;
}

export interface HealthCheckOptions {
  readonly expiryWarningDays?: number;
  /** Monotonic milliseconds (injected in tests). */
  readonly monotonicMs?: () => number;
  readonly now?: () => Date;
  /** Answer timeout for the check; default: the connection's (the hung-service timeout). */
  readonly timeoutMs?: number;
}

/** Discover Versions round trip + latency + server certificate expiry, as one structured status. */
export async function checkServerHealth(client: KmipClient, options: HealthCheckOptions = {}): Promise<ServerHealth> {
  const mono = options.monotonicMs ?? (() => performance.now());
  const now = options.now ?? (() => new Date());
  const started = mono();
  let versions: string[] | undefined;
  let error: { code: string; message: string } | undefined;
  try {
    versions = (await client.discoverVersions(undefined, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs })).map((v) => `${v.major}.${v.minor}`);
  } catch (err) {
    error =
      err instanceof KmipClientError
        ? { code: err.code, message: err.message }
        : { code: 'UNKNOWN', message: err instanceof Error ? err.message : String(err) };
  }
  const latencyMs = error === undefined ? Math.round((mono() - started) * 100) / 100 : undefined;
  const peer = client.transport.peerCertificate();
  const certificate = peer === undefined ? undefined : summarize(peer.toString(), now());
  const warnDays = options.expiryWarningDays ?? DEFAULT_EXPIRY_WARNING_DAYS;
  const status: HealthStatus =
    error !== undefined
      ? HealthStatus.error
      : certificate !== undefined && certificate.daysLeft < warnDays
        ? HealthStatus.warning
        : HealthStatus.ok;
  return {
    server: client.server,
    status,
    ...(latencyMs === undefined ? {} : { latencyMs }),
    ...(versions === undefined ? {} : { versions }),
    ...(certificate === undefined ? {} : { certificate }),
    ...(error === undefined ? {} : { error }),
    checkedAt: now().toISOString(),
  };
}

function summarize(pem: string, now: Date): PeerCertificateSummary {
  const info = certificateInfo(pem, now);
  return {
    subjectCn: info.subjectCn,
    issuerCn: info.issuerCn,
    notAfter: info.notAfter.toISOString(),
    daysLeft: info.daysLeft,
    sha256Fingerprint: info.sha256Fingerprint,
  };
}
