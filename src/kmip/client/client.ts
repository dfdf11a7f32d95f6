import { randomBytes } from 'node:crypto';
import type { ProtocolVersion } from '../message/protocol-version.js';
import type { BatchOutcome, OpCall, ResultOf } from './call.js';
import { createKeyCall, type CreateKeySpec } from './calls/keys.js';
import { discoverVersionsCall } from './calls/server.js';
import { KmipConnection, type KmipConnectionOptions } from './connection.js';
import { KmipOperations } from './promise-api.js';
import { KmipClientError, KmipClientErrorCode } from './errors.js';
import { decodeResponse, encodeRequest, MAX_BATCH_ITEMS } from './message.js';
import type { KmipTransport, RoundTripOptions } from './transport.js';

/** KMIP 1.2 by default: what vSphere 6.7+ and PyKMIP both speak; 1.0–1.4 can be chosen. */
export const DEFAULT_PROTOCOL_VERSION: ProtocolVersion = { major: 1, minor: 2 };

/** Options of one batch message. */
export interface BatchOptions extends RoundTripOptions {
  /** Ask the server to run every item even after one fails (independent items, e.g. many Gets). */
  readonly continueOnError?: boolean;
}

export interface KmipClientOptions {
  /** Protocol Version put in every request header. */
  readonly protocolVersion?: ProtocolVersion;
}

/**
 * Promise API over one KMIP server. Each method sends one request message with one batch
 * item; `batch` sends several operations in one message. Errors: KmipOperationError when the
 * server answered Operation Failed, KmipClientError for transport and protocol failures.
 */
export class KmipClient extends KmipOperations {
  readonly protocolVersion: ProtocolVersion;
  private readonly idPrefix = randomBytes(4);
  private nextId = 1;

  constructor(
    readonly transport: KmipTransport,
    options: KmipClientOptions = {},
  ) {
    super();
    this.protocolVersion = options.protocolVersion ?? DEFAULT_PROTOCOL_VERSION;
  }

  /** A client over a new persistent mTLS connection (opened on first use). */
  static connect(options: KmipConnectionOptions & KmipClientOptions): KmipClient {
    return new KmipClient(new KmipConnection(options), options);
  }

  get server(): string {
    return this.transport.server;
  }

  /** Sends one operation; resolves to its result or rejects with the server's failure. */
  override async send<T>(call: OpCall<T>, options?: RoundTripOptions): Promise<T> {
    const [result] = await this.batch([call] as const, options);
    if (!result.ok) throw result.error;
    return result.value;
  }

  /**
   * Sends several operations in ONE request message (KMIP batch), in order; an operation
   * without a Unique Identifier uses the ID Placeholder set by the previous one (e.g. Create
   * then Activate). Each item's outcome is reported separately.
   */
  async batch<const C extends readonly OpCall<unknown>[]>(
    calls: C,
    options?: BatchOptions,
  ): Promise<{ -readonly [K in keyof C]: BatchOutcome<ResultOf<C[K]>> }> {
    if (calls.length === 0 || calls.length > MAX_BATCH_ITEMS) {
      throw new KmipClientError(KmipClientErrorCode.invalidArgument, `a batch holds 1–${MAX_BATCH_ITEMS} operations`, {
        server: this.server,
      });
    }
    const ids = calls.map(() => this.batchItemId());
    const request = encodeRequest(calls, this.protocolVersion, ids, { continueOnError: options?.continueOnError === true });
    const response = await this.transport.roundTrip(request, options?.timeoutMs === undefined ? undefined : { timeoutMs: options.timeoutMs });
    try {
      return decodeResponse(calls, ids, response, this.server) as { -readonly [K in keyof C]: BatchOutcome<ResultOf<C[K]>> };
    } finally {
      response.fill(0); // a Get answer holds key bytes; the decoded copy is the caller's to zero
    }
  }

  discoverVersions(offer?: readonly ProtocolVersion[], options?: RoundTripOptions): Promise<ProtocolVersion[]> {
    return this.send(discoverVersionsCall(offer), options);
  }

  /** Creates an AES key; resolves to its Unique Identifier. */
  create(spec?: CreateKeySpec): Promise<string> {
    return this.send(createKeyCall(spec));
  }

  close(): Promise<void> {
    return this.transport.close();
  }

  /** Unique Batch Item ID: 4 random bytes per client + a counter, so ids never repeat on a connection. */
  private batchItemId(): Buffer {
    const id = Buffer.alloc(8);
    this.idPrefix.copy(id, 0);
    id.writeUInt32BE(this.nextId, 4);
    this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
    return id;
  }
}
