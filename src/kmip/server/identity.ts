import type { TLSSocket } from 'node:tls';
import { certificateValidityProblem } from '../../pki/validity.js';
import { describeVerifyError } from './refusal.js';

const PINNED_PREFIX = 'sha256:';

/** Who a TLS client is, or why it is refused (the reason goes to the operator log, never to the peer). */
export type ClientIdentity = { readonly ok: true; readonly identity: string } | { readonly ok: false; readonly reason: string };

/**
 * The client identity of a TLS connection: the subject CN of a certificate that chains to the
 * configured CA, or `sha256:<fingerprint>` of a pinned certificate inside its validity window.
 */
export function clientIdentity(socket: TLSSocket, pinned: ReadonlySet<string>, now: Date = new Date()): ClientIdentity {
  const cert = socket.getPeerCertificate();
  if (cert === null || cert === undefined || Object.keys(cert).length === 0) return { ok: false, reason: 'no client certificate' };
  if (socket.authorized) {
    const cn = cert.subject?.CN as unknown;
    if (typeof cn !== 'string' || cn.length === 0 || cn.length > 256) return { ok: false, reason: 'client certificate has no usable subject CN' };
    // `sha256:` names pinned certificates: a CA-issued certificate must not pose as one.
    if (cn.startsWith(PINNED_PREFIX)) return { ok: false, reason: `client certificate CN starts with the reserved prefix ${PINNED_PREFIX}` };
    return { ok: true, identity: cn };
  }
  const fp = (cert.fingerprint256 ?? '').replace(/:/g, '').toLowerCase();
  if (fp.length !== 64 || !pinned.has(fp)) {
    return { ok: false, reason: `client certificate not trusted (${describeVerifyError(socket.authorizationError)}) and not pinned` };
  }
  const problem = certificateValidityProblem(cert, now);
  if (problem !== undefined) {
    return { ok: false, reason: `pinned client certificate ${PINNED_PREFIX}${fp} ${problem}: issue a new one and pin its fingerprint (--pin)` };
  }
  return { ok: true, identity: `${PINNED_PREFIX}${fp}` };
}
