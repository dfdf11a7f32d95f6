import { checkServerIdentity, type ConnectionOptions } from 'node:tls';
import { isIP } from 'node:net';
import { KmipClientError, KmipClientErrorCode } from './errors.js';

/**
 * Trust and identity of the client for one key server, as vCenter sets them up:
 * the KMS CA (or the KMS's own self-signed certificate) to trust, and our client certificate + key.
 * The server certificate is always verified (never `rejectUnauthorized: false`).
 */
export interface TlsIdentity {
  /** PEM of the CA certificate(s), or of the server's self-signed certificate, to trust. */
  readonly ca: string | Buffer | readonly (string | Buffer)[];
  /** PEM of our client certificate (chain). */
  readonly cert: string | Buffer;
  /** PEM of our client private key. */
  readonly key: string | Buffer;
  /**
   * Name to check the server certificate against, when it differs from the host we dial
   * (e.g. dialing 127.0.0.1 for a certificate issued to "kms-a"). Defaults to the host.
   */
  readonly serverName?: string;
}

/**
 * Refuses an identity without a trust anchor: Node would fall back to the public root store
 * for a missing `ca` (any publicly certified host would pass for the KMS), and an empty list
 * can never verify. Also refuses a missing client certificate or key.
 */
export function checkTlsIdentity(identity: TlsIdentity, server: string): void {
  const bad = (what: string): KmipClientError => new KmipClientError(KmipClientErrorCode.invalidArgument, what, { server });
  const present = (v: unknown): boolean => (typeof v === 'string' && v.length > 0) || (Buffer.isBuffer(v) && v.length > 0);
  const ca: unknown = identity?.ca;
  const list: unknown[] = Array.isArray(ca) ? ca : [ca];
  if (list.length === 0 || !list.every(present)) throw bad('TLS identity: no KMS CA or server certificate to verify the server against');
  if (!present(identity.cert) || !present(identity.key)) throw bad('TLS identity: client certificate and key are required');
}

/** Node TLS options for one connection: TLS 1.2+, server verified, client certificate sent. */
export function tlsConnectOptions(host: string, identity: TlsIdentity): ConnectionOptions {
  const ca: string | Buffer | (string | Buffer)[] =
    typeof identity.ca === 'string' || Buffer.isBuffer(identity.ca) ? identity.ca : [...identity.ca];
  const name = identity.serverName ?? host;
  const opts: ConnectionOptions = {
    host,
    ca,
    cert: identity.cert,
    key: identity.key,
    minVersion: 'TLSv1.2',
    rejectUnauthorized: true,
  };
  // SNI carries DNS names only (RFC 6066 §3); an IP is still checked against the certificate.
  if (isIP(name) === 0) opts.servername = name;
  if (name !== host) opts.checkServerIdentity = (_dialed, cert) => checkServerIdentity(name, cert);
  return opts;
}
