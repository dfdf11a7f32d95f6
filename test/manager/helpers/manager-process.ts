import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { vmcryptArgv } from '../../helpers/cli.js';
import { freePort } from '../../helpers/net.js';
import { startProcess, type Running } from '../../helpers/process.js';
import { ManagerApi } from './manager-api.js';

export interface ManagerProcess {
  readonly proc: Running;
  readonly url: string;
  /** SHA-256 of the HTTPS certificate (what `ManagerApi` pins). */
  readonly thumbprint: string;
  readonly dataDir: string;
  /** Logged in as the initial admin. */
  readonly admin: ManagerApi;
  readonly adminPassword: string;
}

const READY = /manager listening on (https:\/\/\S+) thumbprint=([0-9a-f]{64})/;

/**
 * Starts `vmcrypt manager serve` as a real process on a free loopback port (the data dir is
 * kept across restarts), waits for its ready line and logs in as admin.
 */
export async function startManagerProcess(dataDir: string, opts: { pollMs?: number; keyRetryMs?: number; port?: number } = {}): Promise<ManagerProcess> {
  const port = opts.port ?? (await freePort());
  const proc = await startProcess(process.execPath, [
    ...vmcryptArgv(), 'manager', 'serve', '--data', dataDir, '--listen', `127.0.0.1:${port}`,
    '--poll-ms', String(opts.pollMs ?? 200),
    ...(opts.keyRetryMs === undefined ? [] : ['--key-retry-ms', String(opts.keyRetryMs)]),
  ], { ready: READY, readyTimeoutMs: 60_000 });
  const m = READY.exec(proc.output());
  const url = m?.[1] ?? '';
  const thumbprint = m?.[2] ?? '';
  const adminPassword = (await readFile(join(dataDir, 'initial-admin-password'), 'utf8')).trim();
  const admin = await ManagerApi.login(url, thumbprint, 'admin', adminPassword);
  return { proc, url, thumbprint, dataDir, admin, adminPassword };
}
