import { KmipClientError, KmipClientErrorCode } from './errors.js';

/** errno codes meaning "nobody is there": the key provider moves on at once. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  'ETIMEDOUT',
]);

/** Maps a Node socket/TLS error to a client error code; `fallback` when nothing more specific fits. */
export function classifySocketError(err: Error, fallback: KmipClientErrorCode): KmipClientErrorCode {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (UNREACHABLE.has(code)) return KmipClientErrorCode.unreachable;
  // The peer went away (process killed, connection reset), even in the middle of a handshake.
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED') return KmipClientErrorCode.connectionLost;
  if (
    code.startsWith('ERR_SSL_') ||
    code.startsWith('ERR_TLS_') ||
    code.includes('CERT') ||
    code === 'DEPTH_ZERO_SELF_SIGNED_CERTIFICATE' ||
    code === 'SELF_SIGNED_CERT_IN_CHAIN' ||
    code === 'HOSTNAME_MISMATCH' ||
    /alert|certificate/i.test(err.message)
  ) {
    return KmipClientErrorCode.tls;
  }
  return fallback;
}

/** A KmipClientError for a socket error: "<what>: <errno> <message>", original error as cause. */
export function socketError(err: Error, what: string, server: string, fallback: KmipClientErrorCode): KmipClientError {
  const errno = (err as NodeJS.ErrnoException).code;
  const text = errno === undefined || err.message.includes(errno) ? err.message : `${errno} ${err.message}`;
  return new KmipClientError(classifySocketError(err, fallback), `${what}: ${text}`, { cause: err, server });
}
