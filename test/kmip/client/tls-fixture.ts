import { createServer, type Server, type TLSSocket } from 'node:tls';
import { createCa, issueCertificate, CertificateUsage, type CertificateAndKey } from '../../../src/pki/index.js';
import type { TlsIdentity } from '../../../src/kmip/client/client-credentials.js';

export interface Pki {
  readonly ca: CertificateAndKey;
  readonly server: CertificateAndKey;
  readonly client: CertificateAndKey;
}

/** A CA, a server certificate (localhost, 127.0.0.1) and a client certificate, all real. */
export async function makePki(name = 'test'): Promise<Pki> {
  const ca = await createCa({ commonName: `${name} CA` });
  const server = await issueCertificate({ ca, commonName: `${name}-kms`, usage: CertificateUsage.SERVER });
  const client = await issueCertificate({ ca, commonName: `${name}-client`, usage: CertificateUsage.CLIENT });
  return { ca, server, client };
}

export function clientIdentity(pki: Pki, trust: Pki = pki): TlsIdentity {
  return { ca: trust.ca.certPem, cert: pki.client.certPem, key: pki.client.keyPem };
}

/** An empty KMIP Response Message (tag 0x42007B, Structure, length 0): enough for the framing layer. */
export function emptyResponse(): Buffer {
  return Buffer.from([0x42, 0x00, 0x7b, 0x01, 0, 0, 0, 0]);
}

export type Behaviour = (request: Buffer, socket: TLSSocket) => void;

export interface FakeTlsServer {
  readonly server: Server;
  readonly port: number;
  connections: number;
  requests: number;
  behaviour: Behaviour;
  close(): Promise<void>;
}

/**
 * A real mTLS server (client certificate required, verified against the CA) that frames
 * requests like a KMIP server and lets the test decide what to answer.
 */
export async function startFakeTlsServer(pki: Pki, behaviour: Behaviour): Promise<FakeTlsServer> {
  const sockets = new Set<TLSSocket>();
  const server = createServer({
    cert: pki.server.certPem,
    key: pki.server.keyPem,
    ca: pki.ca.certPem,
    requestCert: true,
    rejectUnauthorized: true,
  });
  const state: FakeTlsServer = {
    server,
    port: 0,
    connections: 0,
    requests: 0,
    behaviour,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  server.on('secureConnection', (socket) => {
    state.connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 8) {
        const total = 8 + buf.readUInt32BE(4);
        if (buf.length < total) break;
        const req = buf.subarray(0, total);
        buf = buf.subarray(total);
        state.requests += 1;
        state.behaviour(req, socket);
      }
    });
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  return Object.assign(state, { port: addr.port });
}

/** A request-shaped message: tag Request Message (0x420078), Structure, empty. */
export function emptyRequest(): Buffer {
  return Buffer.from([0x42, 0x00, 0x78, 0x01, 0, 0, 0, 0]);
}
