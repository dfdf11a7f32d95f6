import { createHash } from 'node:crypto';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { LabError, LabErrorCode } from './errors.js';

/** Answers larger than this are refused: the lab reads small inventory documents only. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
const REQUEST_TIMEOUT_MS = 30_000;

/** The manager's error document. */
export interface ManagerFailure {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

export class ManagerCallError extends LabError {
  readonly status: number;
  readonly managerCode: string;
  constructor(method: string, path: string, f: ManagerFailure) {
    super(LabErrorCode.SETUP_FAILED, `${method} ${path}: ${f.status} ${f.code}: ${f.message}`);
    this.status = f.status;
    this.managerCode = f.code;
  }
}

/**
 * The lab talks to its manager the way an operator's tool would: HTTPS with the manager's
 * self-signed certificate pinned by SHA-256 thumbprint (checked before the body is used),
 * a bearer token after login.
 */
export class LabManagerClient {
  constructor(readonly url: string, readonly thumbprint: string, readonly token?: string) {}

  withToken(token: string): LabManagerClient {
    return new LabManagerClient(this.url, this.thumbprint, token);
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const u = new URL(path, this.url);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const { status, json } = await new Promise<{ status: number; json: unknown }>((resolve, reject) => {
      const req = request({
        host: u.hostname, port: u.port, path: u.pathname + u.search, method,
        // the certificate is self-signed: trust comes from the pinned thumbprint below
        rejectUnauthorized: false,
        timeout: REQUEST_TIMEOUT_MS,
        headers: {
          ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': payload.length }),
          ...(this.token === undefined ? {} : { authorization: `Bearer ${this.token}` }),
        },
      }, (res) => {
        const raw = (res.socket as TLSSocket).getPeerCertificate().raw;
        const seen = raw === undefined ? '' : createHash('sha256').update(raw).digest('hex');
        if (seen !== this.thumbprint) {
          res.destroy();
          reject(new LabError(LabErrorCode.SETUP_FAILED, `the manager at ${this.url} presented certificate ${seen}, not the pinned ${this.thumbprint}`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_ANSWER_BYTES) {
            res.destroy();
            reject(new LabError(LabErrorCode.SETUP_FAILED, `${method} ${path}: answer larger than ${MAX_ANSWER_BYTES} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = null;
          try {
            parsed = text === '' ? null : JSON.parse(text);
          } catch {
            parsed = null;
          }
          resolve({ status: res.statusCode ?? 0, json: parsed });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer after ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', (err) => reject(new LabError(LabErrorCode.SETUP_FAILED, `${method} ${path}: ${err.message}`, { cause: err })));
      req.end(payload);
    });
    if (status >= 400) {
      const e = (json as { error?: { code?: unknown; message?: unknown } } | null)?.error;
      throw new ManagerCallError(method, path, {
        status,
        code: typeof e?.code === 'string' ? e.code : 'UNKNOWN',
        message: typeof e?.message === 'string' ? e.message : 'no error document',
      });
    }
    return json as T;
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  /** Waits for a manager task to end; a failed task is a SETUP_FAILED naming it. */
  async waitTask(id: string, timeoutMs: number): Promise<{ state: string; result?: unknown }> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const t = await this.get<{ state: string; result?: unknown; error?: { code?: string; message?: string } }>(`/api/tasks/${encodeURIComponent(id)}`);
      if (t.state === 'success') return t;
      if (t.state === 'error') throw new LabError(LabErrorCode.SETUP_FAILED, `task ${id} failed: ${t.error?.code ?? '?'}: ${t.error?.message ?? ''}`);
      if (Date.now() > end) throw new LabError(LabErrorCode.SETUP_FAILED, `task ${id} still ${t.state} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
