import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { KmipClientError, KmipClientErrorCode } from './errors.js';
import { socketError } from './socket-errors.js';
import { tlsConnectOptions, type TlsIdentity } from './client-credentials.js';

export interface DialOptions {
  readonly host: string;
  readonly port: number;
  readonly tls: TlsIdentity;
  /** TCP connect; past it: KMIP_CLIENT_UNREACHABLE. */
  readonly connectTimeoutMs: number;
  /** TLS handshake; past it: KMIP_CLIENT_TIMEOUT (the server accepted but does not answer). */
  readonly handshakeTimeoutMs: number;
}

/**
 * Opens a mutual-TLS connection in two timed steps, so the failure says what went wrong:
 * nobody listening (unreachable) vs. someone listening who never completes the handshake (hung).
 */
export async function dialTls(o: DialOptions): Promise<TLSSocket> {
  const server = `${o.host}:${o.port}`;
  const raw = await connectTcp(o, server);
  return handshake(raw, o, server);
}

function connectTcp(o: DialOptions, server: string): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const raw = netConnect({ host: o.host, port: o.port });
    const timer = setTimeout(() => {
      raw.destroy();
      reject(new KmipClientError(KmipClientErrorCode.unreachable, `TCP connect timed out after ${o.connectTimeoutMs} ms`, { server }));
    }, o.connectTimeoutMs);
    raw.once('connect', () => {
      clearTimeout(timer);
      raw.removeAllListeners('error');
      // From here the TLS socket reports failures; this only keeps a late raw error from crashing.
      raw.on('error', () => undefined);
      raw.setNoDelay(true);
      raw.setKeepAlive(true, 30_000);
      resolve(raw);
    });
    raw.once('error', (err) => {
      clearTimeout(timer);
      raw.destroy();
      reject(socketError(err, 'cannot connect', server, KmipClientErrorCode.unreachable));
    });
  });
}

function handshake(raw: Socket, o: DialOptions, server: string): Promise<TLSSocket> {
  return new Promise<TLSSocket>((resolve, reject) => {
    const socket = tlsConnect({ ...tlsConnectOptions(o.host, o.tls), socket: raw });
    const done = (err: Error | undefined): void => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
      if (err === undefined) return resolve(socket);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () =>
        done(
          new KmipClientError(KmipClientErrorCode.timeout, `TLS handshake not answered within ${o.handshakeTimeoutMs} ms`, { server }),
        ),
      o.handshakeTimeoutMs,
    );
    const onError = (err: Error): void => done(socketError(err, 'TLS handshake failed', server, KmipClientErrorCode.tls));
    const onClose = (): void =>
      done(new KmipClientError(KmipClientErrorCode.connectionLost, 'connection closed during the TLS handshake', { server }));
    socket.once('error', onError);
    socket.once('close', onClose);
    socket.once('secureConnect', () => done(undefined));
  });
}
