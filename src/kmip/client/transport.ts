import type { X509Certificate } from 'node:crypto';

/**
 * What the KMIP client needs from the network: send one whole request message, get the whole
 * response message back. `KmipConnection` is the real one (mTLS socket); unit tests inject fakes.
 */
export interface KmipTransport {
  /** "host:port" of the server, for error messages and health reports. */
  readonly server: string;
  /** Sends a whole TTLV request message; resolves with the whole response message. */
  roundTrip(request: Buffer, options?: RoundTripOptions): Promise<Buffer>;
  /** The server certificate of the current (or last) TLS session, when there was one. */
  peerCertificate(): X509Certificate | undefined;
  /** Closes the connection; pending requests fail with KMIP_CLIENT_CLOSED. */
  close(): Promise<void>;
}

export interface RoundTripOptions {
  /**
   * Overrides the connection's response timeout for this request, and for the TLS handshake
   * when the request has to open the connection (so a health check with a short timeout is not
   * held for the whole hung-service timeout by a server that accepts and never handshakes).
   */
  readonly timeoutMs?: number;
}
