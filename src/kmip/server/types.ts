import type { KmipError } from '../errors.js';

/** What the TLS front end hands each complete message to (the key server implements it). */
export interface KmipMessageHandler {
  /** Encoded request in, encoded response out; never rejects. The response may hold key bytes. */
  handleMessage(identity: string, request: Buffer, peer?: string): Promise<Buffer>;
  /** Encoded error response for a message that could not even be framed (then the connection closes). */
  rejectMessage(identity: string, error: KmipError, peer?: string): Buffer;
}

export interface KmipServerOptions {
  readonly host: string;
  /** 0 = any free port. */
  readonly port: number;
  readonly certPem: string;
  readonly keyPem: string;
  /** CA(s) that client certificates must chain to. */
  readonly caPem: string;
  /**
   * SHA-256 fingerprints (lower-case hex) of client certificates accepted without chaining to the
   * CA (self-signed ones, e.g. lacking the clientAuth EKU). Their identity is `sha256:<fingerprint>`.
   */
  readonly pinnedFingerprints?: readonly string[];
  readonly handler: KmipMessageHandler;
  /** Largest accepted message (default 1 MiB). */
  readonly maxMessageSize?: number;
  /** Connection closed after this long without a request (default 300 s). */
  readonly idleTimeoutMs?: number;
  /** Connection closed if a message, once its first byte arrived, is not complete after this long (default 30 s). */
  readonly messageTimeoutMs?: number;
  /** Connections that have not finished the TLS handshake after this long are dropped (default 15 s). */
  readonly handshakeTimeoutMs?: number;
  /** Open connections (handshaking ones included) beyond which new ones are dropped (default 1024). */
  readonly maxConnections?: number;
  /** Open connections from one client address (default 256), so one peer cannot take every slot. */
  readonly maxConnectionsPerAddress?: number;
  /** Connection-level events (refused handshakes, framing errors) for the operator log. */
  readonly log?: (line: string) => void;
}

export interface RunningKmipServer {
  readonly host: string;
  readonly port: number;
  /** Stops accepting, lets in-flight requests finish (up to graceMs), then closes every connection. */
  close(graceMs?: number): Promise<void>;
}
