import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { KmipConnection } from '../../../src/kmip/client/connection.js';
import { KmipClientError } from '../../../src/kmip/client/errors.js';
import { freePort } from '../../helpers/net.js';
import {
  clientIdentity,
  emptyRequest,
  emptyResponse,
  makePki,
  startFakeTlsServer,
  type FakeTlsServer,
  type Pki,
} from './tls-fixture.js';

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return err instanceof KmipClientError ? err.code : `other: ${String(err)}`;
  }
}

const answer = (_req: Buffer, s: import('node:tls').TLSSocket): void => void s.write(emptyResponse());

describe('KmipConnection (real mTLS sockets)', () => {
  let pki: Pki;
  let other: Pki;
  let srv: FakeTlsServer;
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    pki = await makePki('conn');
    other = await makePki('other');
    srv = await startFakeTlsServer(pki, answer);
    cleanups.push(() => srv.close());
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('sends several requests over one persistent connection', async () => {
    const conn = new KmipConnection({ host: '127.0.0.1', port: srv.port, tls: clientIdentity(pki) });
    const before = srv.connections;
    const replies = await Promise.all([1, 2, 3].map(() => conn.roundTrip(emptyRequest())));
    expect(replies.every((r) => r.equals(emptyResponse()))).toBe(true);
    expect(await conn.roundTrip(emptyRequest())).toEqual(emptyResponse());
    expect(srv.connections - before).toBe(1);
    expect(conn.peerCertificate()?.subject).toContain('conn-kms');
    await conn.close();
    expect(await codeOf(conn.roundTrip(emptyRequest()))).toBe('KMIP_CLIENT_CLOSED');
  });

  it('checks the server certificate name when told to expect another name', async () => {
    const conn = new KmipConnection({
      host: '127.0.0.1',
      port: srv.port,
      tls: { ...clientIdentity(pki), serverName: 'kms.example.org' },
    });
    expect(await codeOf(conn.roundTrip(emptyRequest()))).toBe('KMIP_CLIENT_TLS');
    await conn.close();
  });

  it('checks the dialed IP against the server certificate by default (no name override)', async () => {
    // The certificate names localhost and 127.0.0.1; the same server reached as 127.0.0.2 is refused.
    const s = createTlsServer({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.ca.certPem, requestCert: true }, (sock) => {
      sock.on('error', () => undefined);
      sock.on('data', () => void sock.write(emptyResponse()));
    });
    s.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.2', () => resolve()));
    const port = (s.address() as import('node:net').AddressInfo).port;
    try {
      const conn = new KmipConnection({ host: '127.0.0.2', port, tls: clientIdentity(pki) });
      const err = await conn.roundTrip(emptyRequest()).catch((e: unknown) => e);
      expect((err as KmipClientError).code).toBe('KMIP_CLIENT_TLS');
      expect((err as KmipClientError).message).toMatch(/127\.0\.0\.2/);
      await conn.close();
      // Control: the same server, checked against a name its certificate has, is accepted.
      const named = new KmipConnection({ host: '127.0.0.2', port, tls: { ...clientIdentity(pki), serverName: '127.0.0.1' } });
      expect(await named.roundTrip(emptyRequest())).toEqual(emptyResponse());
      await named.close();
    } finally {
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  });

  it('refuses an identity with no trust anchor (never falls back to the public root store)', () => {
    const id = clientIdentity(pki);
    for (const ca of [[], '', undefined, [id.ca, '']]) {
      expect(() => new KmipConnection({ host: '127.0.0.1', port: srv.port, tls: { ...id, ca: ca as never } })).toThrow(
        expect.objectContaining({ code: 'KMIP_CLIENT_INVALID_ARGUMENT' }),
      );
    }
    expect(() => new KmipConnection({ host: '127.0.0.1', port: srv.port, tls: { ...id, key: '' } })).toThrow(
      expect.objectContaining({ code: 'KMIP_CLIENT_INVALID_ARGUMENT' }),
    );
  });

  it('refuses a server whose certificate is from an untrusted CA', async () => {
    const conn = new KmipConnection({ host: '127.0.0.1', port: srv.port, tls: clientIdentity(pki, other) });
    const err = await conn.roundTrip(emptyRequest()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KmipClientError);
    expect((err as KmipClientError).code).toBe('KMIP_CLIENT_TLS');
    expect((err as KmipClientError).message).toContain(`127.0.0.1:${srv.port}`);
    await conn.close();
  });

  it('reports a refused port as unreachable', async () => {
    const port = await freePort();
    const conn = new KmipConnection({ host: '127.0.0.1', port, tls: clientIdentity(pki) });
    expect(await codeOf(conn.roundTrip(emptyRequest()))).toBe('KMIP_CLIENT_UNREACHABLE');
    await conn.close();
  });

  it('times out on a listener that accepts and never answers, then frees the socket', async () => {
    const held: Socket[] = [];
    const hung: Server = createServer((s) => held.push(s));
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', () => r()));
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          for (const s of held) s.destroy();
          hung.close(() => r());
        }),
    );
    const port = (hung.address() as { port: number }).port;
    const conn = new KmipConnection({ host: '127.0.0.1', port, tls: clientIdentity(pki), responseTimeoutMs: 300 });
    expect(await codeOf(conn.roundTrip(emptyRequest()))).toBe('KMIP_CLIENT_TIMEOUT');
    await conn.close();
    // A request's own shorter timeout bounds the handshake too (health checks use it).
    const slow = new KmipConnection({ host: '127.0.0.1', port, tls: clientIdentity(pki), responseTimeoutMs: 600_000 });
    const err = await slow.roundTrip(emptyRequest(), { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'KMIP_CLIENT_TIMEOUT', message: expect.stringContaining('not answered within 200 ms') });
    await slow.close();
  });

  it('times out when the TLS server takes the request and never answers; reconnects afterwards', async () => {
    const s = await startFakeTlsServer(pki, () => undefined);
    cleanups.push(() => s.close());
    // The handshake gets the default timeout; only the unanswered request has a short one.
    const conn = new KmipConnection({ host: '127.0.0.1', port: s.port, tls: clientIdentity(pki) });
    expect(await codeOf(conn.roundTrip(emptyRequest(), { timeoutMs: 300 }))).toBe('KMIP_CLIENT_TIMEOUT');
    s.behaviour = answer;
    expect((await conn.roundTrip(emptyRequest())).equals(emptyResponse())).toBe(true);
    expect(s.connections).toBe(2);
    await conn.close();
  });

  it('fails with connection lost when the server drops the connection mid-request', async () => {
    const s = await startFakeTlsServer(pki, (_req, sock) => sock.destroy());
    cleanups.push(() => s.close());
    const conn = new KmipConnection({ host: '127.0.0.1', port: s.port, tls: clientIdentity(pki) });
    expect(await codeOf(conn.roundTrip(emptyRequest()))).toBe('KMIP_CLIENT_CONNECTION_LOST');
    await conn.close();
  });

  it('survives the server closing an idle connection, and a server restart', async () => {
    const s = await startFakeTlsServer(pki, answer);
    const conn = new KmipConnection({ host: '127.0.0.1', port: s.port, tls: clientIdentity(pki) });
    await conn.roundTrip(emptyRequest());
    const port = s.port;
    await s.close(); // destroys the connection and stops listening
    expect(await codeOf(conn.roundTrip(emptyRequest()))).toBe('KMIP_CLIENT_UNREACHABLE');
    const again = await startFakeTlsServerOn(pki, port);
    cleanups.push(() => again.close());
    expect((await conn.roundTrip(emptyRequest())).equals(emptyResponse())).toBe(true);
    await conn.close();
  });

  it('refuses an oversized response and a response that is not KMIP', async () => {
    const big = await startFakeTlsServer(pki, (_req, sock) => {
      const head = emptyResponse();
      head.writeUInt32BE(64 * 1024 * 1024, 4);
      sock.write(head);
    });
    cleanups.push(() => big.close());
    const c1 = new KmipConnection({ host: '127.0.0.1', port: big.port, tls: clientIdentity(pki) });
    expect(await codeOf(c1.roundTrip(emptyRequest()))).toBe('KMIP_CLIENT_RESPONSE_TOO_LARGE');
    await c1.close();
    const junk = await startFakeTlsServer(pki, (_req, sock) => void sock.write(Buffer.from('HTTP/1.1 400 Bad\r\n\r\n')));
    cleanups.push(() => junk.close());
    const c2 = new KmipConnection({ host: '127.0.0.1', port: junk.port, tls: clientIdentity(pki) });
    expect(await codeOf(c2.roundTrip(emptyRequest()))).toBe('KMIP_CLIENT_BAD_RESPONSE');
    await c2.close();
  });
});

async function startFakeTlsServerOn(pki: Pki, port: number): Promise<FakeTlsServer> {
  // Same server as startFakeTlsServer, on a given port (the restarted server).
  const s = await startFakeTlsServer(pki, answer);
  await new Promise<void>((r) => s.server.close(() => r()));
  await new Promise<void>((r) => s.server.listen(port, '127.0.0.1', () => r()));
  return Object.assign(s, { port });
}

describe('KmipConnection queue on a failing server', () => {
  it('fails requests queued behind a hung request together, after one timeout', async () => {
    const pki = await makePki('queue');
    const s = await startFakeTlsServer(pki, () => undefined);
    try {
      const conn = new KmipConnection({ host: '127.0.0.1', port: s.port, tls: clientIdentity(pki) });
      const results = await Promise.allSettled([1, 2, 3, 4].map(() => conn.roundTrip(emptyRequest(), { timeoutMs: 300 })));
      expect(results.map((r) => (r.status === 'rejected' ? (r.reason as KmipClientError).code : 'ok'))).toEqual([
        'KMIP_CLIENT_TIMEOUT',
        'KMIP_CLIENT_TIMEOUT',
        'KMIP_CLIENT_TIMEOUT',
        'KMIP_CLIENT_TIMEOUT',
      ]);
      // Only the first request reached the server: the others never waited on it.
      expect(s.requests).toBe(1);
      await conn.close();
    } finally {
      await s.close();
    }
  });
});

describe('KmipConnection retry on a reused connection', () => {
  it('retries once on a fresh connection when a reused one dies before any answer byte', async () => {
    const pki = await makePki('retry');
    const perSocket = new WeakMap<object, number>();
    const s = await startFakeTlsServer(pki, (_req, sock) => {
      const n = (perSocket.get(sock) ?? 0) + 1;
      perSocket.set(sock, n);
      if (n === 1) sock.write(emptyResponse());
      else sock.destroy(); // "idle connection closed" just as the client reused it
    });
    try {
      const conn = new KmipConnection({ host: '127.0.0.1', port: s.port, tls: clientIdentity(pki) });
      await conn.roundTrip(emptyRequest());
      expect((await conn.roundTrip(emptyRequest())).equals(emptyResponse())).toBe(true);
      expect(s.connections).toBe(2);
      await conn.close();
    } finally {
      await s.close();
    }
  });

  it('marks a refused reconnect after a reused socket died with the request on it: it may have arrived', async () => {
    // The server took the request and died before answering (it may have applied it): that must
    // stay visible to a key provider, which then checks before creating a second key.
    const pki = await makePki('died');
    const perSocket = new WeakMap<object, number>();
    let s: FakeTlsServer | undefined;
    s = await startFakeTlsServer(pki, (_req, sock) => {
      const n = (perSocket.get(sock) ?? 0) + 1;
      perSocket.set(sock, n);
      if (n === 1) sock.write(emptyResponse());
      else void s?.close(); // dies: stops listening and drops every connection
    });
    try {
      const conn = new KmipConnection({ host: '127.0.0.1', port: s.port, tls: clientIdentity(pki) });
      await conn.roundTrip(emptyRequest());
      const err = await conn.roundTrip(emptyRequest()).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'KMIP_CLIENT_UNREACHABLE', requestMayHaveArrived: true });
      // A fresh connection that is refused sent nothing.
      const fresh = new KmipConnection({ host: '127.0.0.1', port: s.port, tls: clientIdentity(pki) });
      expect(await fresh.roundTrip(emptyRequest()).catch((e: unknown) => e)).toMatchObject({ code: 'KMIP_CLIENT_UNREACHABLE', requestMayHaveArrived: false });
      await fresh.close();
      await conn.close();
    } finally {
      await s.close();
    }
  });

  it('does not retry when the server had started answering', async () => {
    const pki = await makePki('noretry');
    const perSocket = new WeakMap<object, number>();
    const s = await startFakeTlsServer(pki, (_req, sock) => {
      const n = (perSocket.get(sock) ?? 0) + 1;
      perSocket.set(sock, n);
      if (n === 1) sock.write(emptyResponse());
      else sock.end(emptyResponse().subarray(0, 4));
    });
    try {
      const conn = new KmipConnection({ host: '127.0.0.1', port: s.port, tls: clientIdentity(pki) });
      await conn.roundTrip(emptyRequest());
      expect(await codeOf(conn.roundTrip(emptyRequest()))).toBe('KMIP_CLIENT_CONNECTION_LOST');
      expect(s.connections).toBe(1);
      await conn.close();
    } finally {
      await s.close();
    }
  });
});
