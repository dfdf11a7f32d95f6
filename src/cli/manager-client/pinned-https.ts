import { createHash } from 'node:crypto';
import { request } from 'node:https';
import { isIP } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { VmcryptError } from '../../errors.js';

/** Answers larger than this are not the manager's JSON (its largest list is a few hundred KiB). */
export const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
const TIMEOUT_MS = 30_000;

export interface PinnedAnswer {
  readonly status: number;
  /** Parsed JSON, or null for an empty body. */
  readonly body: unknown;
}

export interface PinnedRequest {
  readonly baseUrl: string;
  /** SHA-256 hex of the certificate the manager must present. */
  readonly thumbprint: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly body?: unknown;
  readonly token?: string;
}

export function certificateThumbprint(socket: TLSSocket): string | undefined {
  const raw = socket.getPeerCertificate().raw as Buffer | undefined;
  return raw === undefined ? undefined : createHash('sha256').update(raw).digest('hex');
}

/** Explains a socket error as a next step for the operator. */
export function unreachable(baseUrl: string, err: Error & { code?: string }): VmcryptError {
  const why = err.code ?? err.message;
  const hint =
    err.code === 'ECONNREFUSED' ? 'is the manager running there (vmcrypt manager serve)?'
    : err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' ? 'is the host name in the profile right?'
    : err.code === 'ETIMEDOUT' || err.code === 'TIMEOUT' ? 'is a firewall in the way, or the manager overloaded?'
    : 'check the URL in the profile and that the manager runs';
  return new VmcryptError('MANAGER_UNREACHABLE', `cannot reach the manager at ${baseUrl} (${why}): ${hint}`, { exitCode: 4 });
}

/** A TLS connection to the manager, its certificate not checked yet (the callers pin it). */
function connectUnchecked(u: URL, baseUrl: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: u.hostname, port: Number(u.port === '' ? 443 : u.port), servername: isIP(u.hostname) === 0 ? u.hostname : undefined,
      // The CA is not checked: the pin is stronger (one certificate, not any a CA signed).
      rejectUnauthorized: false, ALPNProtocols: ['http/1.1'],
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(unreachable(baseUrl, Object.assign(new Error('timed out'), { code: 'TIMEOUT' })));
    }, TIMEOUT_MS);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (e: Error & { code?: string }) => {
      clearTimeout(timer);
      reject(unreachable(baseUrl, e));
    });
  });
}

/** A TLS connection to the manager, resolved only once its certificate matched the pin. */
async function connectPinned(u: URL, baseUrl: string, thumbprint: string): Promise<TLSSocket> {
  const socket = await connectUnchecked(u, baseUrl);
  const seen = certificateThumbprint(socket);
  if (seen === thumbprint) return socket;
  socket.destroy();
  throw new VmcryptError('MANAGER_CERT_MISMATCH',
    `the manager at ${baseUrl} presents certificate sha256=${seen ?? 'none'}, not the pinned ${thumbprint}: ` +
    'if its certificate was replaced on purpose, log in again (vmcrypt login) and confirm the new thumbprint');
}

/**
 * One HTTPS request to the manager. Its self-signed certificate is pinned: nothing (no token) is
 * written until the presented certificate has `thumbprint`. The answer is bounded to
 * MAX_RESPONSE_BYTES.
 */
export async function pinnedRequest(r: PinnedRequest): Promise<PinnedAnswer> {
  const u = new URL(r.path, r.baseUrl);
  const socket = await connectPinned(u, r.baseUrl, r.thumbprint);
  const payload = r.body === undefined ? undefined : Buffer.from(JSON.stringify(r.body));
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (e: Error): void => {
      if (!settled) { settled = true; reject(e); }
      socket.destroy();
    };
    const req = request({
      host: u.hostname, port: u.port, path: u.pathname + u.search, method: r.method,
      // No agent: the request runs on the socket whose certificate was just checked.
      createConnection: () => socket,
      timeout: TIMEOUT_MS,
      headers: {
        accept: 'application/json',
        connection: 'close',
        ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': payload.length }),
        ...(r.token === undefined ? {} : { authorization: `Bearer ${r.token}` }),
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_RESPONSE_BYTES) {
          fail(new VmcryptError('MANAGER_RESPONSE_INVALID', `the manager's answer to ${r.method} ${u.pathname} exceeds ${MAX_RESPONSE_BYTES} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('error', fail);
      res.on('end', () => {
        if (settled) return;
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = null;
        try {
          body = text === '' ? null : JSON.parse(text);
        } catch {
          body = { text: text.slice(0, 200) };
        }
        settled = true;
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('timeout', () => fail(unreachable(r.baseUrl, Object.assign(new Error('timed out'), { code: 'TIMEOUT' }))));
    req.on('error', (e: Error & { code?: string }) => fail(unreachable(r.baseUrl, e)));
    req.end(payload);
  });
}

/** First contact: the thumbprint the manager presents, for the operator to confirm before login. */
export async function probeThumbprint(baseUrl: string): Promise<string> {
  const socket = await connectUnchecked(new URL(baseUrl), baseUrl);
  const tp = certificateThumbprint(socket);
  socket.destroy();
  if (tp === undefined) throw new VmcryptError('MANAGER_CERT_MISMATCH', `the manager at ${baseUrl} presented no certificate`);
  return tp;
}
