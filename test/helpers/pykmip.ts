import { mkdir, mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { createCa, issueCertificate, CertificateUsage, type CertificateAndKey } from '../../src/pki/index.js';
import { freePort } from './net.js';
import { startProcess, type Running } from './process.js';

export const PYKMIP_SERVER = '/usr/bin/pykmip-server';

export interface PykmipServer {
  readonly host: string;
  readonly port: number;
  /** The CA that signed the server certificate and the client certificates. */
  readonly ca: CertificateAndKey;
  /** A client certificate (CN "vmcrypt-test", clientAuth EKU) signed by `ca`. */
  readonly client: CertificateAndKey;
  readonly dir: string;
  readonly process: Running;
  /** A new client certificate signed by the same CA (a second identity). */
  issueClient(commonName: string): Promise<CertificateAndKey>;
  /** The server log (PyKMIP logs to a file, not to stdout). */
  log(): Promise<string>;
  /** Kills the server (and its multiprocessing manager) and removes the temp directory. */
  stop(): Promise<void>;
}

/**
 * Starts Debian's PyKMIP server (`/usr/bin/pykmip-server`, python3-pykmip 0.10) on 127.0.0.1
 * and a free port: TLS 1.2 with client certificates required, certificates from src/pki,
 * SQLite database, log and (empty) policy directory in a temp dir. Resolves when the port accepts.
 */
export async function startPykmip(opts: { readyTimeoutMs?: number } = {}): Promise<PykmipServer> {
  const dir = await mkdtemp(join(tmpdir(), 'vmcrypt-pykmip-'));
  const ca = await createCa({ commonName: 'PyKMIP test CA' });
  const server = await issueCertificate({ ca, commonName: 'pykmip-server', usage: CertificateUsage.SERVER });
  const client = await issueCertificate({ ca, commonName: 'vmcrypt-test', usage: CertificateUsage.CLIENT });
  const host = '127.0.0.1';
  const port = await freePort();
  const files = {
    ca: join(dir, 'ca.pem'),
    cert: join(dir, 'server.pem'),
    key: join(dir, 'server.key'),
    conf: join(dir, 'server.conf'),
    log: join(dir, 'server.log'),
    db: join(dir, 'pykmip.db'),
    policies: join(dir, 'policies'),
  };
  await writeFile(files.ca, ca.certPem);
  await writeFile(files.cert, server.certPem);
  await writeFile(files.key, server.keyPem, { mode: 0o600 });
  await mkdir(files.policies);
  // Settings of kmip/services/server/config.py (section [server]).
  await writeFile(
    files.conf,
    [
      '[server]',
      `hostname=${host}`,
      `port=${port}`,
      `certificate_path=${files.cert}`,
      `key_path=${files.key}`,
      `ca_path=${files.ca}`,
      'auth_suite=TLS1.2',
      `policy_path=${files.policies}`,
      'enable_tls_client_auth=True',
      'logging_level=INFO',
      `database_path=${files.db}`,
      '',
    ].join('\n'),
  );
  // detached: own process group, so stop() also kills the multiprocessing manager child.
  const proc = await startProcess(PYKMIP_SERVER, ['-f', files.conf, '-l', files.log], { detached: true });
  const stop = async (): Promise<void> => {
    // Kill the whole process group even when the main process already exited (e.g. after a
    // SIGTERM from stopAll): PyKMIP's multiprocessing manager child would otherwise linger.
    const pid = proc.child.pid;
    if (pid !== undefined) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // the whole group is gone already
      }
    }
    await proc.kill();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(host, port, opts.readyTimeoutMs ?? 30_000, () => proc.child.exitCode !== null);
  } catch (err) {
    const log = await readFile(files.log, 'utf8').catch(() => '');
    await stop();
    throw new Error(`pykmip-server did not start: ${(err as Error).message}\n${proc.output()}\n${log}`);
  }
  return {
    host,
    port,
    ca,
    client,
    dir,
    process: proc,
    issueClient: (commonName) => issueCertificate({ ca, commonName, usage: CertificateUsage.CLIENT }),
    log: () => readFile(files.log, 'utf8').catch(() => ''),
    stop,
  };
}

async function waitForPort(host: string, port: number, timeoutMs: number, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited()) throw new Error('process exited');
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`port ${port} not open after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
