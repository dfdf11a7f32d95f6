import type { Socket } from 'node:net';
import { createServer, type TLSSocket } from 'node:tls';
import { KmipError } from '../errors.js';
import { messageSize } from '../ttlv/index.js';
import { clientIdentity } from './identity.js';
import { handshakeRefusalReason } from './refusal.js';
import type { KmipServerOptions, RunningKmipServer } from './types.js';

const DEFAULT_MAX = 1024 * 1024;
const DEFAULT_MESSAGE_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_PER_ADDRESS = 256;

/**
 * KMIP over TLS (KMIP Profiles 1.4 §3.1 "Basic Authentication Suite": TLS, port 5696): TLS 1.2+, client certificate
 * required. Each connection reads whole TTLV messages (framed by the 8-byte header, size capped
 * before buffering) and answers them in order; many connections are served at once. A message
 * that cannot be framed gets an Invalid Message response and the connection is closed; one that
 * frames but does not decode gets an error response and the connection stays usable.
 */
export async function startKmipServer(opts: KmipServerOptions): Promise<RunningKmipServer> {
  const pinned = new Set((opts.pinnedFingerprints ?? []).map((f) => f.replace(/[\s:]/g, '').toLowerCase()));
  const maxMessageSize = opts.maxMessageSize ?? DEFAULT_MAX;
  const messageTimeoutMs = opts.messageTimeoutMs ?? DEFAULT_MESSAGE_TIMEOUT_MS;
  const log = opts.log ?? (() => {});
  const connections = new Map<TLSSocket, { busy: boolean; closing: boolean }>();
  let stopping = false;

  const server = createServer({
    cert: opts.certPem,
    key: opts.keyPem,
    ca: opts.caPem,
    requestCert: true,
    // With pinned certificates the CA check is done in clientIdentity() so a pinned self-signed
    // certificate can pass; without pins the handshake itself refuses unknown clients.
    rejectUnauthorized: pinned.size === 0,
    minVersion: 'TLSv1.2',
    handshakeTimeout: opts.handshakeTimeoutMs ?? 15_000,
  });
  server.maxConnections = opts.maxConnections ?? 1024;
  // One address cannot take every slot (e.g. with handshakes it never finishes) and lock others out.
  const maxPerAddress = opts.maxConnectionsPerAddress ?? DEFAULT_MAX_PER_ADDRESS;
  const perAddress = new Map<string, number>();
  // A socket refused during the handshake is already closed when 'tlsClientError' fires, and a
  // closed socket no longer knows its peer: the address is noted while it is still there.
  const peerOfRaw = new WeakMap<Socket, string>();
  server.on('connection', (raw: Socket) => {
    const addr = raw.remoteAddress ?? '?';
    peerOfRaw.set(raw, `${addr}:${raw.remotePort ?? '?'}`);
    const n = (perAddress.get(addr) ?? 0) + 1;
    if (n > maxPerAddress) {
      log(`kms: refused ${addr}: more than ${maxPerAddress} connections from one address`);
      raw.destroy();
      return;
    }
    perAddress.set(addr, n);
    raw.once('close', () => {
      const left = (perAddress.get(addr) ?? 1) - 1;
      if (left <= 0) perAddress.delete(addr);
      else perAddress.set(addr, left);
    });
  });
  server.on('tlsClientError', (err, socket) => {
    // `_parent` is the raw TCP socket Node's TLS server wrapped (not typed, but stable since Node 0.11).
    const raw = (socket as TLSSocket & { _parent?: Socket })._parent;
    const peer = (raw === undefined ? undefined : peerOfRaw.get(raw)) ?? (socket.remoteAddress === undefined ? 'unknown address' : `${socket.remoteAddress}:${socket.remotePort ?? '?'}`);
    log(`kms: refused TLS client ${peer}: ${handshakeRefusalReason(err, socket)}`);
    // With a listener on this event Node leaves the socket open: a peer that never finishes (or
    // botches) its handshake would hold a connection slot forever.
    socket.destroy();
  });

  server.on('secureConnection', (socket: TLSSocket) => {
    const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    const who = clientIdentity(socket, pinned);
    if (!who.ok || stopping) {
      log(`kms: refused TLS client ${peer}: ${who.ok ? 'the server is stopping' : who.reason}`);
      socket.destroy();
      return;
    }
    const identity = who.identity;
    const state = { busy: false, closing: false };
    connections.set(socket, state);
    socket.setNoDelay(true);
    socket.setTimeout(opts.idleTimeoutMs ?? 300_000, () => socket.destroy());
    socket.on('error', () => {});
    let buf: Buffer = Buffer.alloc(0);
    // The idle timeout restarts on every byte: a client trickling one byte at a time would hold
    // its connection forever. A started message must be complete within messageTimeoutMs.
    let partial: NodeJS.Timeout | undefined;
    const stopPartialClock = (): void => {
      clearTimeout(partial);
      partial = undefined;
    };
    socket.on('close', () => {
      stopPartialClock();
      connections.delete(socket);
    });

    const pump = (): void => {
      if (state.busy || socket.destroyed) return;
      let size: number | undefined;
      try {
        size = messageSize(buf, { maxMessageSize });
      } catch (err) {
        const e = err instanceof KmipError ? err : new KmipError('KMIP_INVALID_MESSAGE', 'unframeable message');
        log(`kms: ${peer} (${identity}): ${e.message}; closing`);
        buf.fill(0);
        buf = Buffer.alloc(0);
        socket.end(opts.handler.rejectMessage(identity, e, peer));
        // A peer that never closes its side must not keep the slot for the whole idle timeout.
        socket.setTimeout(Math.min(messageTimeoutMs, opts.idleTimeoutMs ?? 300_000));
        return;
      }
      if (size === undefined || buf.length < size) {
        if (state.closing) socket.end();
        else socket.resume();
        if (buf.length > 0) {
          partial ??= setTimeout(() => {
            log(`kms: ${peer} (${identity}): message incomplete after ${messageTimeoutMs} ms; closing`);
            socket.destroy();
          }, messageTimeoutMs);
        }
        return;
      }
      stopPartialClock();
      const msg = buf.subarray(0, size);
      const rest = buf.subarray(size);
      buf = Buffer.from(rest);
      rest.fill(0); // copied; msg (the front) is zeroed once answered
      state.busy = true;
      const answer = opts.handler.handleMessage(identity, msg, peer).catch((err: unknown) => {
        // The handler is not supposed to reject; if it does, answer General Failure, keep serving.
        log(`kms: ${peer} (${identity}): handler failed: ${err instanceof Error ? err.message : String(err)}`);
        return opts.handler.rejectMessage(identity, new KmipError('KMIP_GENERAL_FAILURE', 'internal error'), peer);
      });
      void answer.then((resp) => {
        msg.fill(0); // a Register request carries key bytes
        state.busy = false;
        if (socket.destroyed) {
          resp.fill(0);
          return;
        }
        socket.write(resp, () => resp.fill(0));
        pump();
      });
    };

    socket.on('data', (d: Buffer) => {
      if (buf.length === 0) buf = d;
      else {
        // A Register request carries key bytes: the pieces are zeroed once joined.
        const joined = Buffer.concat([buf, d]);
        buf.fill(0);
        d.fill(0);
        buf = joined;
      }
      // Never hold more than two messages' worth while one is being served.
      if (buf.length > 2 * maxMessageSize + 16) socket.pause();
      pump();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new KmipError('KMIP_GENERAL_FAILURE', 'server has no TCP address');

  return {
    host: addr.address,
    port: addr.port,
    async close(graceMs = 5000) {
      stopping = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const [socket, st] of connections) {
        st.closing = true;
        if (!st.busy) socket.end();
      }
      const deadline = setTimeout(() => {
        for (const socket of connections.keys()) socket.destroy();
      }, graceMs);
      await closed;
      clearTimeout(deadline);
    },
  };
}
