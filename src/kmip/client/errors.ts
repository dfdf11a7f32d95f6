import { VmcryptError } from '../../errors.js';

/**
 * Stable codes of the KMIP client. The key provider decides on failover from the code alone
 * (docs/kmip-client.md lists them all; docs/key-providers.md says which ones fail over).
 */
export const KmipClientErrorCode = {
  /** TCP connection refused, host/network unreachable, DNS failure, TCP connect timeout. */
  unreachable: 'KMIP_CLIENT_UNREACHABLE',
  /** TLS handshake failed: server certificate not trusted, client certificate refused, … */
  tls: 'KMIP_CLIENT_TLS',
  /** Connected, but no (complete) answer within the response ("hung service") timeout. */
  timeout: 'KMIP_CLIENT_TIMEOUT',
  /** The connection closed or reset while a request was waiting for its answer. */
  connectionLost: 'KMIP_CLIENT_CONNECTION_LOST',
  /** The server sent bytes that are not a well-formed KMIP response (or not ours). */
  badResponse: 'KMIP_CLIENT_BAD_RESPONSE',
  /** The response header announced more than the configured maximum message size. */
  responseTooLarge: 'KMIP_CLIENT_RESPONSE_TOO_LARGE',
  /** The caller closed the client; pending and later requests fail with this code. */
  closed: 'KMIP_CLIENT_CLOSED',
  /** The caller passed something the client cannot send (bad key length, empty batch, …). */
  invalidArgument: 'KMIP_CLIENT_INVALID_ARGUMENT',
  /** The server answered with Result Status Operation Failed (see KmipOperationError.reason). */
  operationFailed: 'KMIP_OPERATION_FAILED',
} as const;
export type KmipClientErrorCode = (typeof KmipClientErrorCode)[keyof typeof KmipClientErrorCode];

/** A failure of the client or of the transport; `server` is "host:port" when known. */
export class KmipClientError extends VmcryptError {
  declare readonly code: KmipClientErrorCode;
  readonly server: string | undefined;
  /**
   * Set when this failure (e.g. a refused reconnect) came after the request had been written on
   * a connection that then died: the server may have applied it. Timeouts and lost connections
   * imply it already.
   */
  requestMayHaveArrived = false;

  constructor(code: KmipClientErrorCode, message: string, options?: { cause?: unknown; server?: string }) {
    super(code, options?.server === undefined ? message : `${options.server}: ${message}`, options);
    this.server = options?.server;
  }
}

/**
 * The server processed the request and answered Operation Failed (KMIP 1.1 §6.9, §6.10).
 * The server is alive: a key provider never fails over on this error.
 */
export class KmipOperationError extends KmipClientError {
  /** Result Reason name as in the KMIP spec tables, e.g. 'ItemNotFound', 'PermissionDenied'. */
  readonly reason: string;
  /** Result Reason value as sent (0 when the server sent none). */
  readonly reasonValue: number;
  /** The operation that failed, e.g. 'Create'. */
  readonly operation: string;
  /** Result Message from the server, bounded to 512 characters. */
  readonly resultMessage: string;

  constructor(args: {
    operation: string;
    reason: string;
    reasonValue: number;
    resultMessage: string;
    server?: string;
  }) {
    const msg = args.resultMessage.slice(0, 512);
    super(
      KmipClientErrorCode.operationFailed,
      `${args.operation} failed: ${args.reason}${msg === '' ? '' : ` (${msg})`}`,
      args.server === undefined ? {} : { server: args.server },
    );
    this.reason = args.reason;
    this.reasonValue = args.reasonValue;
    this.operation = args.operation;
    this.resultMessage = msg;
  }
}
