import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostClient } from '../../../src/host/client/host-client.js';
import { createSelfSigned } from '../../../src/pki/index.js';
import { makeManagerIdentity, type ManagerIdentity } from '../harness.js';

// The manager's client pins the host by thumbprint. A peer with another certificate (an
// impostor, a man in the middle) must be refused BEFORE the request is sent: POST /v1/keys
// carries KEK bytes.
describe('HostClient: the host thumbprint is checked before anything is sent', () => {
  let server: Server;
  let url: string;
  let id: ManagerIdentity;
  const received: Buffer[] = [];
  const closed: Array<Promise<void>> = [];

  beforeAll(async () => {
    id = await makeManagerIdentity();
    const cert = await createSelfSigned({ commonName: 'impostor', usage: 'server' });
    server = createServer({ key: cert.keyPem, cert: cert.certPem, requestCert: true, rejectUnauthorized: false }, (s: TLSSocket) => {
      s.on('data', (d: Buffer) => {
        received.push(Buffer.from(d));
        // answer like a host would, so a client that checks the pin only on the response
        // fails this test on what was received rather than by hanging
        if (Buffer.concat(received).includes('\r\n\r\n')) s.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}');
      });
      s.on('error', () => undefined);
    });
    server.on('connection', (raw: Socket) => closed.push(new Promise((resolve) => raw.once('close', () => resolve()))));
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const addr = server.address();
    url = `https://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('refuses a host whose certificate is not the pinned one; the key never leaves', async () => {
    const kek = randomBytes(32);
    const client = new HostClient({ url, certPem: id.certPem, keyPem: id.keyPem, thumbprint: 'ab'.repeat(32) });
    await expect(client.call('POST', '/v1/keys', { keys: [{ keyId: 'k', key: kek.toString('base64') }] })).rejects.toMatchObject({ code: 'HOST_FORBIDDEN' });
    await Promise.all(closed);
    expect(closed.length).toBe(1);
    expect(Buffer.concat(received).length).toBe(0);
  });

  it('gives up on a peer that accepts TCP but never speaks TLS', async () => {
    const { createServer: createTcpServer } = await import('node:net');
    const mute = createTcpServer((s) => s.on('error', () => undefined));
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', () => resolve()));
    const addr = mute.address();
    const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
    try {
      const client = new HostClient({ url: `https://127.0.0.1:${port}`, certPem: id.certPem, keyPem: id.keyPem, thumbprint: 'ab'.repeat(32), connectTimeoutMs: 200 });
      await expect(client.call('GET', '/v1/host')).rejects.toThrow('no TLS handshake with 127.0.0.1');
    } finally {
      mute.close();
    }
  });
});
