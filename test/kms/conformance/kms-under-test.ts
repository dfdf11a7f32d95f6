import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { certificateInfo, CertificateUsage, createSelfSigned } from '../../../src/pki/index.js';
import { repoRoot, vmcryptArgv } from '../../helpers/cli.js';
import { freePort } from '../../helpers/net.js';
import { startProcess, type Running } from '../../helpers/process.js';
import { openRawConnection, type RawKmipConnection } from '../kmip-connection.js';

const run = promisify(execFile);

/**
 * `vmcrypt kms serve` on a fresh data dir and a free 127.0.0.1 port. Each named client gets its
 * own self-signed certificate, pinned with `--pin`: its own KMIP identity, so the objects of one
 * test-case series are invisible to another's Locate (the cases assume a server of their own).
 */
export interface KmsUnderTest {
  readonly port: number;
  /** A mutual-TLS connection as client `name` (one of those given at start). */
  connect(name: string): Promise<{ exchange(request: Buffer): Promise<Buffer>; close(): void }>;
  close(): Promise<void>;
}

export async function startKmsUnderTest(clients: readonly string[]): Promise<KmsUnderTest> {
  const dir = await mkdtemp(join(tmpdir(), 'vmcrypt-kmip-conf-'));
  const data = join(dir, 'kms');
  const unseal = `${data}.unseal`;
  let server: Running | undefined;
  try {
    const { stdout } = await run(process.execPath, [...vmcryptArgv(), 'kms', 'init', '--data', data, '--auto-unseal-file', unseal, '--json'], { cwd: repoRoot });
    const ca = await readFile((JSON.parse(stdout) as { caCert: string }).caCert, 'utf8');
    const certs = new Map<string, { certPem: string; keyPem: string }>();
    for (const name of clients) certs.set(name, await createSelfSigned({ commonName: `conformance-${name}`.slice(0, 64), usage: CertificateUsage.CLIENT }));
    const pins = [...certs.values()].flatMap((c) => ['--pin', certificateInfo(c.certPem).sha256Fingerprint]);
    const port = await freePort();
    server = await startProcess(process.execPath, [...vmcryptArgv(), 'kms', 'serve', '--data', data, '--auto-unseal-file', unseal, '--listen', `127.0.0.1:${port}`, ...pins], {
      ready: /kms listening on 127\.0\.0\.1:\d+/,
      cwd: repoRoot,
    });
    const s = server;
    return {
      port,
      async connect(name) {
        const c = certs.get(name);
        if (c === undefined) throw new Error(`no client ${name}`);
        const conn: RawKmipConnection = await openRawConnection(port, { ca, cert: c.certPem, key: c.keyPem });
        return {
          async exchange(request) {
            const r = await conn.exchange(request);
            if (r === null) throw new Error(`the KMS closed the connection; its output: ${s.output().slice(-2000)}`);
            return r;
          },
          close: () => conn.close(),
        };
      },
      async close() {
        await s.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
