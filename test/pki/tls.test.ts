import { afterAll, describe, expect, it } from 'vitest';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, createSelfSigned, issueCertificate, KeyAlgorithm, certificateInfo } from '../../src/pki/index.js';
import { freePort } from '../helpers/net.js';
import { startProcess, stopAll } from '../helpers/process.js';

afterAll(stopAll);

/** Connects with a client certificate and reads one line; resolves to what the server said. */
function tlsExchange(port: number, opts: { ca: string; cert: string; key: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const s: TLSSocket = connect({ host: '127.0.0.1', port, ...opts, servername: 'localhost' }, () => s.write('hi\n'));
    let data = '';
    s.on('data', (d) => {
      data += d.toString();
      if (data.includes('\n')) {
        s.end();
        resolve(data.trim());
      }
    });
    s.on('error', reject);
    s.on('close', () => resolve(data.trim()));
  });
}

describe('certificates in real TLS handshakes', () => {
  it('Node mTLS: server cert verified by the CA, client identity = subject CN', async () => {
    const ca = await createCa({ commonName: 'mtls CA' });
    const srv = await issueCertificate({ ca, commonName: 'kms', usage: 'server' });
    const cli = await issueCertificate({ ca, commonName: 'manager-1', usage: 'client' });
    const server = createServer({ cert: srv.certPem, key: srv.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (s) => {
      s.end(`${s.getPeerCertificate().subject.CN}\n`);
    });
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    try {
      expect(await tlsExchange(port, { ca: ca.certPem, cert: cli.certPem, key: cli.keyPem })).toBe('manager-1');
      // A server-only certificate is refused as a client (no clientAuth EKU).
      const srvOnly = await issueCertificate({ ca, commonName: 'not-a-client', usage: 'server' });
      // (TLS 1.3: the server's refusal arrives after the client's handshake, as an error or a bare close.)
      const answer = await tlsExchange(port, { ca: ca.certPem, cert: srvOnly.certPem, key: srvOnly.keyPem }).catch(() => 'refused');
      expect(['refused', '']).toContain(answer);
    } finally {
      server.close();
    }
  });

  it('Node mTLS: a pinned self-signed client certificate, trusted as its own anchor', async () => {
    const ca = await createCa({ commonName: 'kms CA' });
    const srv = await issueCertificate({ ca, commonName: 'kms', usage: 'server' });
    const ss = await createSelfSigned({ commonName: 'vcenter-selfsigned', usage: 'client' });
    const fp = certificateInfo(ss.certPem).sha256Fingerprint;
    const server = createServer({ cert: srv.certPem, key: srv.keyPem, ca: [ca.certPem, ss.certPem], requestCert: true, rejectUnauthorized: true }, (s) => {
      s.end(`${s.getPeerCertificate().fingerprint256.replace(/:/g, '').toLowerCase()}\n`);
    });
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    try {
      expect(await tlsExchange(port, { ca: ca.certPem, cert: ss.certPem, key: ss.keyPem })).toBe(fp);
    } finally {
      server.close();
    }
  });

  for (const alg of [KeyAlgorithm.ECDSA_P256, KeyAlgorithm.RSA_2048]) {
    it(`Python ssl (PyKMIP's TLS stack) accepts our ${alg} certificates both ways`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'vmcrypt-pki-'));
      try {
        const ca = await createCa({ commonName: 'py CA', keyAlgorithm: alg });
        const srv = await issueCertificate({ ca, commonName: 'pykmip', usage: 'server', keyAlgorithm: alg });
        const cli = await issueCertificate({ ca, commonName: 'node-client', usage: 'client', keyAlgorithm: alg });
        await writeFile(join(dir, 'ca.pem'), ca.certPem);
        await writeFile(join(dir, 'srv.pem'), srv.certPem);
        await writeFile(join(dir, 'srv.key'), srv.keyPem, { mode: 0o600 });
        const port = await freePort();
        const py = [
          'import ssl, socket, sys',
          `ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)`,
          `ctx.load_cert_chain(sys.argv[1] + '/srv.pem', sys.argv[1] + '/srv.key')`,
          `ctx.load_verify_locations(sys.argv[1] + '/ca.pem')`,
          'ctx.verify_mode = ssl.CERT_REQUIRED',
          `ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); ls.bind(('127.0.0.1', int(sys.argv[2]))); ls.listen(1)`,
          `print('ready', flush=True)`,
          'c, _ = ls.accept()',
          's = ctx.wrap_socket(c, server_side=True)',
          `cn = dict(x[0] for x in s.getpeercert()['subject'])['commonName']`,
          `s.recv(10); s.sendall((cn + '\\n').encode()); s.close()`,
        ].join('\n');
        await startProcess('/usr/bin/python3', ['-c', py, dir, String(port)], { ready: /ready/ });
        expect(await tlsExchange(port, { ca: ca.certPem, cert: cli.certPem, key: cli.keyPem })).toBe('node-client');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
