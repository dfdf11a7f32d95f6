import { createHash } from 'node:crypto';
import { request } from 'node:https';
import { isIP } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { ManagerError, ManagerErrorCode } from '../../errors.js';

/** The destination manager as the operator names it: its URL, the SHA-256 of its certificate, a token of a user there. */
export interface PeerRef {
  readonly url: string;
  readonly thumbprint: string;
  readonly token: string;
}

const MAX_ANSWER = 1024 * 1024;
const TIMEOUT_MS = 120_000;
const KNOWN = new Set<string>(Object.values(ManagerErrorCode));

const unreachable = (url: string, why: string): ManagerError =>
  new ManagerError('MANAGER_HOST_UNREACHABLE', `the destination manager ${url} is not reachable: ${why}`);

function pinnedSocket(u: URL, peer: PeerRef): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: u.hostname, port: Number(u.port === '' ? 443 : u.port), servername: isIP(u.hostname) === 0 ? u.hostname : undefined,
      // the CA is not checked: the pin (one certificate) is stronger; nothing is written before it matched
      rejectUnauthorized: false, ALPNProtocols: ['http/1.1'],
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(unreachable(peer.url, 'connect timed out'));
    }, 15_000);
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(unreachable(peer.url, (e as Error & { code?: string }).code ?? e.message));
    });
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const raw = socket.getPeerCertificate().raw as Buffer | undefined;
      const seen = raw === undefined ? 'none' : createHash('sha256').update(raw).digest('hex');
      if (seen === peer.thumbprint.replace(/:/g, '').toLowerCase()) return resolve(socket);
      socket.destroy();
      reject(new ManagerError('MANAGER_FORBIDDEN', `the destination manager ${peer.url} presents certificate sha256=${seen}, not the pinned ${peer.thumbprint}`));
    });
  });
}

/**
 * Calls the destination manager's API over HTTPS with its certificate pinned (cross-vCenter
 * vMotion asks for the destination's address and credentials). Its refusals keep their
 * MANAGER_* code, the message says which manager refused; answers are bounded to 1 MiB.
 */
export async function callPeer<T>(peer: PeerRef, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const u = new URL(path, peer.url);
  const socket = await pinnedSocket(u, peer);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const answer = await new Promise<{ status: number; json: unknown }>((resolve, reject) => {
    let settled = false;
    const fail = (e: Error): void => {
      if (!settled) {
        settled = true;
        reject(e);
      }
      socket.destroy();
    };
    const req = request({
      host: u.hostname, port: u.port, path: u.pathname + u.search, method, createConnection: () => socket, timeout: TIMEOUT_MS,
      headers: {
        accept: 'application/json', connection: 'close', authorization: `Bearer ${peer.token}`,
        ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': payload.length }),
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_ANSWER) return fail(unreachable(peer.url, `answer over ${MAX_ANSWER} bytes`));
        chunks.push(c);
      });
      res.on('error', fail);
      res.on('end', () => {
        if (settled) return;
        settled = true;
        let json: unknown = null;
        try {
          json = chunks.length === 0 ? null : JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          json = null;
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
    });
    req.on('timeout', () => fail(unreachable(peer.url, 'timed out')));
    req.on('error', (e) => fail(unreachable(peer.url, e.message)));
    req.end(payload);
  });
  if (answer.status >= 200 && answer.status < 300) return answer.json as T;
  const err = (answer.json as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const code = typeof err?.code === 'string' && KNOWN.has(err.code) ? (err.code as ManagerErrorCode) : 'MANAGER_CONFLICT';
  const message = typeof err?.message === 'string' ? err.message.slice(0, 1024) : `HTTP ${answer.status}`;
  throw new ManagerError(code, `the destination manager ${peer.url} refused: ${message}`);
}
