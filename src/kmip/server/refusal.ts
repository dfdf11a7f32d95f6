import type { TLSSocket } from 'node:tls';

/** OpenSSL verify codes an operator meets most, in words (the code stays in the line for searching). */
const VERIFY_ERRORS: Readonly<Record<string, string>> = {
  CERT_HAS_EXPIRED: 'certificate expired',
  CERT_NOT_YET_VALID: 'certificate not yet valid',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in the chain',
  UNABLE_TO_GET_ISSUER_CERT: 'issuer not trusted',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'issuer not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'issuer not trusted',
  CERT_SIGNATURE_FAILURE: 'bad certificate signature',
  CERT_REVOKED: 'certificate revoked',
  INVALID_PURPOSE: 'certificate not meant for TLS clients',
};

export function describeVerifyError(code: unknown): string {
  if (typeof code !== 'string' || code.length === 0) return 'unverified';
  const text = VERIFY_ERRORS[code];
  return text === undefined ? code : `${text}, ${code}`;
}

/**
 * Why a handshake failed, in words an operator can act on. When the server refuses the client's
 * certificate Node destroys the socket itself and reports only "socket hang up"; the verify
 * result is still on the socket. A bare reset with no verify result is the client walking away,
 * most often because it does not trust this server's certificate.
 */
export function handshakeRefusalReason(err: Error & { code?: string; reason?: string }, socket: Pick<TLSSocket, 'authorizationError'>): string {
  const verify = socket.authorizationError as unknown;
  if (typeof verify === 'string' && verify.length > 0) return `client certificate refused (${describeVerifyError(verify)})`;
  if (err.code === 'ECONNRESET') return 'the client closed the connection during the TLS handshake (does it trust this server\'s certificate?)';
  if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'TLS handshake not finished in time';
  // OpenSSL errors carry the short text in `reason`; the full message holds source paths.
  const text = typeof err.reason === 'string' && err.reason.length > 0 ? err.reason : err.message.split('\n')[0] ?? 'unknown error';
  return err.code === undefined ? text : `${text} (${err.code})`;
}
