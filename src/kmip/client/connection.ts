import type { TLSSocket } from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import { KmipClientError, KmipClientErrorCode } from './errors.js';
import { DEFAULT_MAX_RESPONSE_BYTES, ResponseFramer } from './response-framer.js';
import { checkTlsIdentity, type TlsIdentity } from './client-credentials.js';
import { dialTls } from './dial.js';
import type { KmipTransport, RoundTripOptions } from './transport.js';
import { socketError } from './socket-errors.js';

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** vSphere waits 60 s for a KMS that accepted the connection but does not answer. */
export const DEFAULT_RESPONSE_TIMEOUT_MS = 60_000;

export interface KmipConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly tls: TlsIdentity;
  /** TCP connect only; past it the server counts as unreachable. Default 5 s. */
  readonly connectTimeoutMs?: number;
  /** TLS handshake and each answer; past it the server counts as hung. Default 60 s. */
  readonly responseTimeoutMs?: number;
  /** Largest response message accepted, header included. Default 1 MiB. */
  readonly maxResponseBytes?: number;
}

interface Pending {
  readonly request: Buffer;
  readonly timeoutMs: number;
  readonly resolve: (response: Buffer) => void;
  readonly reject: (err: Error) => void;
}

interface Live {
  readonly socket: TLSSocket;
  readonly framer: ResponseFramer;
  /** Requests already answered on this socket: a reused socket may have been closed by the peer. */
  answered: number;
  /** Bytes received since the current request was written (0 = the server said nothing yet). */
  receivedForCurrent: number;
  waiter: { resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  failure: Error | undefined;
}

/**
 * One persistent mutual-TLS connection to one KMIP server.
 *
 * Requests are sent one at a time, in call order, and each waits for its own response (a
 * server answers a connection's messages in order; several operations go in one message as a
 * batch instead). The socket is opened on first use and again after any failure, so a server
 * restart costs one failed request at most — and not even that when the peer closed an idle
 * connection: a request that finds its reused socket dead is retried once on a fresh one.
 */
export class KmipConnection implements KmipTransport {
  readonly server: string;
  private readonly connectTimeoutMs: number;
  private readonly responseTimeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly queue: Pending[] = [];
  private live: Live | undefined;
  private busy = false;
  private closed = false;
  private lastPeer: X509Certificate | undefined;

  constructor(private readonly options: KmipConnectionOptions) {
    this.server = `${options.host}:${options.port}`;
    checkTlsIdentity(options.tls, this.server);
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.responseTimeoutMs = options.responseTimeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  }

  /** True while a TLS session is established. */
  get connected(): boolean {
    return this.live !== undefined && this.live.failure === undefined;
  }

  roundTrip(request: Buffer, options: RoundTripOptions = {}): Promise<Buffer> {
    if (this.closed) return Promise.reject(this.error(KmipClientErrorCode.closed, 'connection closed'));
    return new Promise<Buffer>((resolve, reject) => {
      this.queue.push({ request, timeoutMs: options.timeoutMs ?? this.responseTimeoutMs, resolve, reject });
      void this.pump();
    });
  }

  peerCertificate(): X509Certificate | undefined {
    return this.lastPeer;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(this.error(KmipClientErrorCode.closed, 'connection closed'));
    const live = this.live;
    this.live = undefined;
    if (live !== undefined) {
      live.waiter?.reject(this.error(KmipClientErrorCode.closed, 'connection closed'));
      live.waiter = undefined;
      await new Promise<void>((resolve) => {
        if (live.socket.destroyed) return resolve();
        live.socket.once('close', () => resolve());
        live.socket.end();
        setTimeout(() => live.socket.destroy(), 1000).unref();
      });
    }
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        try {
          next.resolve(await this.send(next.request, next.timeoutMs));
        } catch (err) {
          next.reject(err as Error);
          // The server is unreachable, hung or gone: requests queued behind this one fail now
          // with the same reason instead of each paying the connect or hung timeout again.
          if (isServerFailure(err)) for (const p of this.queue.splice(0)) p.reject(err as Error);
        }
      }
    } finally {
      this.busy = false;
    }
  }

  private async send(request: Buffer, timeoutMs: number): Promise<Buffer> {
    const fresh = this.live === undefined || this.live.failure !== undefined;
    const live = fresh ? await this.open(timeoutMs) : (this.live as Live);
    try {
      return await this.exchange(live, request, timeoutMs);
    } catch (err) {
      const retry =
        !fresh &&
        live.answered > 0 &&
        err instanceof KmipClientError &&
        err.code === KmipClientErrorCode.connectionLost &&
        live.receivedForCurrent === 0 &&
        !this.closed;
      if (!retry) throw err;
      let again: Live;
      try {
        again = await this.open(timeoutMs);
      } catch (reconnect) {
        // The request may have reached the server before it died (or the server had merely
        // closed an idle socket: we cannot tell). Say so, so a key provider checks whether a
        // Create was applied before making another key.
        if (reconnect instanceof KmipClientError) reconnect.requestMayHaveArrived = true;
        throw reconnect;
      }
      return this.exchange(again, request, timeoutMs);
    }
  }

  private exchange(live: Live, request: Buffer, timeoutMs: number): Promise<Buffer> {
    if (live.failure !== undefined) return Promise.reject(live.failure);
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        const err = this.error(KmipClientErrorCode.timeout, `no answer within ${timeoutMs} ms`);
        this.fail(live, err);
      }, timeoutMs);
      live.waiter = {
        resolve: (b) => {
          clearTimeout(timer);
          live.answered += 1;
          resolve(b);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      live.receivedForCurrent = 0;
      live.socket.write(request);
    });
  }

  /** Marks the socket dead, fails the waiting request with `err`, destroys the socket. */
  private fail(live: Live, err: Error): void {
    if (live.failure === undefined) live.failure = err;
    const waiter = live.waiter;
    live.waiter = undefined;
    waiter?.reject(err);
    if (this.live === live) this.live = undefined;
    live.framer.reset();
    live.socket.destroy();
  }

  /** Opens the TLS session; the handshake gets the answer timeout of the request that needs it. */
  private async open(handshakeTimeoutMs: number): Promise<Live> {
    const socket = await dialTls({
      host: this.options.host,
      port: this.options.port,
      tls: this.options.tls,
      connectTimeoutMs: this.connectTimeoutMs,
      handshakeTimeoutMs,
    });
    this.lastPeer = socket.getPeerX509Certificate();
    if (this.closed) {
      socket.destroy();
      throw this.error(KmipClientErrorCode.closed, 'connection closed');
    }
    const live: Live = {
      socket,
      framer: new ResponseFramer(this.maxResponseBytes, this.server),
      answered: 0,
      receivedForCurrent: 0,
      waiter: undefined,
      failure: undefined,
    };
    socket.on('data', (chunk: Buffer) => {
      live.receivedForCurrent += chunk.length;
      let messages: Buffer[];
      try {
        messages = live.framer.push(chunk);
      } catch (err) {
        return this.fail(live, err as Error);
      }
      for (const m of messages) {
        const waiter = live.waiter;
        live.waiter = undefined;
        if (waiter === undefined) {
          return this.fail(live, this.error(KmipClientErrorCode.badResponse, 'unsolicited response message'));
        }
        waiter.resolve(m);
      }
    });
    socket.on('error', (err) => this.fail(live, socketError(err, 'connection failed', this.server, KmipClientErrorCode.connectionLost)));
    socket.on('close', () => {
      this.fail(live, this.error(KmipClientErrorCode.connectionLost, 'connection closed by the server'));
    });
    socket.on('end', () => socket.end());
    this.live = live;
    return live;
  }

  private error(code: KmipClientErrorCode, message: string): KmipClientError {
    return new KmipClientError(code, message, { server: this.server });
  }
}

const SERVER_FAILURES: ReadonlySet<string> = new Set([
  KmipClientErrorCode.unreachable,
  KmipClientErrorCode.timeout,
  KmipClientErrorCode.tls,
  KmipClientErrorCode.connectionLost,
]);

function isServerFailure(err: unknown): boolean {
  return err instanceof KmipClientError && SERVER_FAILURES.has(err.code);
}
