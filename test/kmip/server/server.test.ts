import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { KmipError } from '../../../src/kmip/errors.js';
import { startKmipServer } from '../../../src/kmip/server/server.js';
import type { KmipMessageHandler, KmipServerOptions, RunningKmipServer } from '../../../src/kmip/server/types.js';
import { Tag } from '../../../src/kmip/tags.js';
import { encodeTtlv, ttlv } from '../../../src/kmip/ttlv/index.js';
import { createCa, createSelfSigned, certificateInfo, issueCertificate, CertificateUsage } from '../../../src/pki/index.js';
import type { CertificateAndKey } from '../../../src/pki/index.js';
import { canTalk, openRawConnection, type TlsMaterial } from '../../kms/kmip-connection.js';

/**
 * The TLS front end on its own, with a handler that answers every message with the caller's
 * identity: connection limits, timeouts for idle and half-sent messages, client identities.
 */
let ca: CertificateAndKey;
let serverCert: CertificateAndKey;
let client: TlsMaterial;
const servers: RunningKmipServer[] = [];
const logs: string[] = [];

const ping = encodeTtlv(ttlv.struct(Tag.RequestMessage, [ttlv.int(Tag.BatchCount, 1)]));

const handler: KmipMessageHandler = {
  handleMessage: async (identity) => encodeTtlv(ttlv.struct(Tag.ResponseMessage, [ttlv.text(Tag.UniqueIdentifier, identity)])),
  rejectMessage: (_identity, error: KmipError) => encodeTtlv(ttlv.struct(Tag.ResponseMessage, [ttlv.text(Tag.ResultMessage, error.code)])),
};

async function start(extra: Partial<KmipServerOptions> = {}): Promise<RunningKmipServer> {
  const s = await startKmipServer({
    host: '127.0.0.1',
    port: 0,
    certPem: serverCert.certPem,
    keyPem: serverCert.keyPem,
    caPem: ca.certPem,
    handler,
    log: (l) => logs.push(l),
    ...extra,
  });
  servers.push(s);
  return s;
}

/** The identity the server saw for this TLS material, or null if refused. */
async function identityOf(port: number, tls: TlsMaterial): Promise<string | null> {
  let c;
  try {
    c = await openRawConnection(port, tls);
  } catch {
    return null;
  }
  try {
    const r = await c.exchange(ping).catch(() => null);
    if (r === null) return null;
    return r.subarray(16, 16 + r.readUInt32BE(12)).toString('utf8');
  } finally {
    c.close();
  }
}

beforeAll(async () => {
  ca = await createCa({ commonName: 'server test CA' });
  serverCert = await issueCertificate({ ca, commonName: 'kms', usage: CertificateUsage.SERVER, ipAddresses: ['127.0.0.1'] });
  const c = await issueCertificate({ ca, commonName: 'alice', usage: CertificateUsage.CLIENT });
  client = { ca: ca.certPem, cert: c.certPem, key: c.keyPem };
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close(100)));
}, 10_000);
afterAll(() => {
  logs.length = 0;
});

describe('KMIP TLS front end', () => {
  it('closes a connection whose message never completes, even if bytes keep trickling in', async () => {
    const s = await start({ messageTimeoutMs: 300, idleTimeoutMs: 600_000 });
    const c = await openRawConnection(s.port, client);
    c.write(Buffer.from('4200780100000100', 'hex')); // announces 256 bytes
    const trickle = setInterval(() => {
      if (!c.socket.destroyed) c.write(Buffer.alloc(1));
    }, 50);
    try {
      expect(await c.read(10_000)).toBeNull();
    } finally {
      clearInterval(trickle);
      c.close();
    }
    expect(logs.some((l) => l.includes('message incomplete'))).toBe(true);
    expect(await identityOf(s.port, client)).toBe('alice'); // others still served
  });

  it('keeps a connection that completes its messages, however slowly they are split', async () => {
    const s = await start({ messageTimeoutMs: 5_000 });
    const c = await openRawConnection(s.port, client);
    try {
      for (let i = 0; i < 3; i++) {
        c.write(ping.subarray(0, 5));
        await new Promise((r) => setTimeout(r, 20));
        c.write(ping.subarray(5));
        expect(await c.read()).not.toBeNull();
      }
    } finally {
      c.close();
    }
  });

  it('closes an authenticated connection that stays idle', async () => {
    const s = await start({ idleTimeoutMs: 300 });
    const c = await openRawConnection(s.port, client);
    try {
      expect(await c.exchange(ping)).not.toBeNull();
      expect(await c.read(10_000)).toBeNull();
    } finally {
      c.close();
    }
  });

  it('drops a TCP peer that never starts the TLS handshake', async () => {
    const s = await start({ handshakeTimeoutMs: 300 });
    const sock = tcpConnect(s.port, '127.0.0.1');
    sock.on('error', () => {});
    await new Promise<void>((resolve) => sock.on('close', () => resolve()));
    expect(sock.destroyed).toBe(true);
  });

  it('refuses connections beyond maxConnections and accepts again once one closes', async () => {
    const s = await start({ maxConnections: 2 });
    const a = await openRawConnection(s.port, client);
    const b = await openRawConnection(s.port, client);
    expect(await a.exchange(ping)).not.toBeNull();
    expect(await b.exchange(ping)).not.toBeNull();
    expect(await canTalk(s.port, client, ping)).toBe(false);
    a.close();
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) {
      ok = await canTalk(s.port, client, ping);
      if (!ok) await new Promise((r) => setTimeout(r, 50));
    }
    expect(ok).toBe(true);
    b.close();
  });

  it('one address that floods the server with stalled handshakes does not lock out another', async () => {
    const s = await start({ maxConnections: 5, maxConnectionsPerAddress: 3 });
    const stalled = Array.from({ length: 6 }, () => {
      const sock = tcpConnect({ port: s.port, host: '127.0.0.1', localAddress: '127.0.0.2' });
      sock.on('error', () => {});
      return sock;
    });
    let dropped = 0;
    const threeDropped = new Promise<void>((r) => stalled.forEach((sock) => sock.on('close', () => ++dropped === 3 && r())));
    const closed = stalled.map((sock) => new Promise<void>((r) => sock.on('close', () => r())));
    // Beyond 3 the flood's own connections are dropped at once, so of the 5 slots 2 stay for others.
    await threeDropped;
    expect(await identityOf(s.port, client)).toBe('alice');
    expect(logs.some((l) => l.includes('more than 3 connections from one address'))).toBe(true);
    for (const sock of stalled) sock.destroy();
    await Promise.all(closed);
  });

  it('identities: CA-issued CN, pinned fingerprint; a CA-issued CN cannot pose as a pinned identity', async () => {
    const pinned = await createSelfSigned({ commonName: 'vcenter', usage: CertificateUsage.CLIENT });
    const fp = certificateInfo(pinned.certPem).sha256Fingerprint.replace(/:/g, '').toLowerCase();
    const s = await start({ pinnedFingerprints: [fp] });
    expect(await identityOf(s.port, client)).toBe('alice');
    expect(await identityOf(s.port, { ca: ca.certPem, cert: pinned.certPem, key: pinned.keyPem })).toBe(`sha256:${fp}`);
    // (A full `sha256:<64 hex>` CN is longer than X.509's 64-character limit our PKI keeps; a laxer
    // CA could issue one, so the whole prefix is reserved.)
    const impostor = await issueCertificate({ ca, commonName: `sha256:${fp.slice(0, 57)}`, usage: CertificateUsage.CLIENT });
    expect(await identityOf(s.port, { ca: ca.certPem, cert: impostor.certPem, key: impostor.keyPem })).toBeNull();
    // With pins, the handshake lets unverified certificates through to the pin check: no certificate
    // at all, or an unpinned one from another CA, must still be refused.
    expect(await identityOf(s.port, { ca: ca.certPem })).toBeNull();
    const other = await createCa({ commonName: 'other CA' });
    const stranger = await issueCertificate({ ca: other, commonName: 'alice', usage: CertificateUsage.CLIENT });
    expect(await identityOf(s.port, { ca: ca.certPem, cert: stranger.certPem, key: stranger.keyPem })).toBeNull();
  });

  it('refuses a pinned certificate outside its validity window, naming it and the date in the log', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(Date.now() - 10 * 86_400_000));
    const old = await createSelfSigned({ commonName: 'old-vcenter', usage: CertificateUsage.CLIENT, days: 1 });
    vi.useRealTimers();
    const fresh = await createSelfSigned({ commonName: 'vcenter', usage: CertificateUsage.CLIENT, days: 1 });
    const fpOf = (c: CertificateAndKey) => certificateInfo(c.certPem).sha256Fingerprint.replace(/:/g, '').toLowerCase();
    const s = await start({ pinnedFingerprints: [fpOf(old), fpOf(fresh)] });
    expect(await identityOf(s.port, { ca: ca.certPem, cert: fresh.certPem, key: fresh.keyPem })).toBe(`sha256:${fpOf(fresh)}`);
    expect(await identityOf(s.port, { ca: ca.certPem, cert: old.certPem, key: old.keyPem })).toBeNull();
    const line = logs.find((l) => l.includes(fpOf(old)));
    expect(line).toMatch(/^kms: refused TLS client 127\.0\.0\.1:\d+: pinned client certificate sha256:[0-9a-f]{64} expired on \d{4}-\d\d-\d\dT/);
  });

  it('logs a refused handshake with the peer address and the reason, not "? : socket hang up"', async () => {
    const s = await start();
    logs.length = 0;
    const other = await createCa({ commonName: 'other CA' });
    const stranger = await issueCertificate({ ca: other, commonName: 'mallory', usage: CertificateUsage.CLIENT });
    expect(await identityOf(s.port, { ca: ca.certPem, cert: stranger.certPem, key: stranger.keyPem })).toBeNull();
    // a client that does not trust the server's certificate hangs up mid-handshake
    expect(await identityOf(s.port, { ca: other.certPem, cert: stranger.certPem, key: stranger.keyPem })).toBeNull();
    expect(await identityOf(s.port, { ca: ca.certPem })).toBeNull();
    await expect.poll(() => logs.filter((l) => l.startsWith('kms: refused TLS client')).length).toBe(3);
    const refused = logs.filter((l) => l.startsWith('kms: refused TLS client'));
    for (const l of refused) {
      expect(l).toMatch(/^kms: refused TLS client 127\.0\.0\.1:\d+: /);
      expect(l).not.toMatch(/socket hang up|\?:/);
    }
    expect(refused).toContainEqual(expect.stringMatching(/client certificate refused \(issuer not trusted, UNABLE_TO_GET_ISSUER_CERT_LOCALLY\)|client certificate refused \(issuer not trusted, UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/));
    expect(refused).toContainEqual(expect.stringContaining('closed the connection during the TLS handshake'));
    expect(refused).toContainEqual(expect.stringContaining('peer did not return a certificate'));
  });

  it('speaks TLS 1.2 or newer only: TLS 1.1 and 1.0 clients are refused by the server', async () => {
    const s = await start();
    const modern = await openRawConnection(s.port, client);
    try {
      expect(['TLSv1.2', 'TLSv1.3']).toContain(modern.socket.getProtocol());
    } finally {
      modern.close();
    }
    const control = await startLegacyTlsServer();
    try {
      for (const version of ['TLSv1.1', 'TLSv1'] as const) {
        // The same client completes the handshake with a server that still allows the old version,
        // so the refusal below comes from the KMIP server, not from the client's own configuration.
        expect(await oldTlsHandshake(control.port, version)).toEqual({ protocol: version });
        // OpenSSL reports the server's protocol_version alert (RFC 5246 §7.2.2) on the client.
        expect(await oldTlsHandshake(s.port, version)).toEqual({ error: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' });
      }
    } finally {
      await new Promise<void>((resolve) => control.close(resolve));
    }
  });
});

type LegacyVersion = 'TLSv1.1' | 'TLSv1';

/** A plain TLS server that still accepts TLS 1.0 and 1.1 with the same certificates: the control. */
async function startLegacyTlsServer(): Promise<{ port: number; close(done: () => void): void }> {
  const server = createTlsServer(
    {
      cert: serverCert.certPem,
      key: serverCert.keyPem,
      ca: ca.certPem,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1',
      // OpenSSL 3 refuses TLS 1.0/1.1 above security level 0 (their handshake signs with SHA-1/MD5).
      ciphers: 'DEFAULT@SECLEVEL=0',
    },
    (socket) => socket.end(),
  );
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { port: address.port, close: (done) => server.close(() => done()) };
}

/** Handshake pinned to one old version: the negotiated protocol, or the error code the client saw. */
async function oldTlsHandshake(port: number, version: LegacyVersion): Promise<{ protocol: string | null } | { error: string }> {
  const socket = tlsConnect({
    host: '127.0.0.1',
    port,
    ca: ca.certPem,
    cert: client.cert,
    key: client.key,
    checkServerIdentity: () => undefined,
    minVersion: version,
    maxVersion: version,
    ciphers: 'DEFAULT@SECLEVEL=0',
  });
  try {
    return await new Promise((resolve) => {
      socket.once('secureConnect', () => resolve({ protocol: socket.getProtocol() }));
      socket.once('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    });
  } finally {
    socket.destroy();
  }
}
