import type { TLSSocket } from 'node:tls';

const PINNED_PREFIX = 'sha256:';

/**
 * The client identity of a TLS connection: the subject CN of a certificate that chains to the
 * configured CA, or `sha256:<fingerprint>` of a pinned certificate. Undefined = refuse.
 */
export function clientIdentity(socket: TLSSocket, pinned: ReadonlySet<string>): string | undefined {
  const cert = socket.getPeerCertificate();
  if (cert === null || cert === undefined || Object.keys(cert).length === 0) return undefined;
  if (socket.authorized) {
    const cn = cert.subject?.CN as unknown;
    // `sha256:` names pinned certificates: a CA-issued certificate must not pose as one.
    if (typeof cn === 'string' && cn.length > 0 && cn.length <= 256 && !cn.startsWith(PINNED_PREFIX)) return cn;
    return undefined;
  }
  const fp = (cert.fingerprint256 ?? '').replace(/:/g, '').toLowerCase();
  return fp.length === 64 && pinned.has(fp) ? `${PINNED_PREFIX}${fp}` : undefined;
}
