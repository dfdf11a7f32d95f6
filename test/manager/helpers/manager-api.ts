import { createHash } from 'node:crypto';
import { request } from 'node:https';

export interface ApiAnswer<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T;
}

/** The manager's error answer. */
export interface ApiErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

/** VMCRYPT_TEST_SLOW_MS=N logs every manager call that took N ms or more (finding what makes a test slow). */
const SLOW_MS = process.env['VMCRYPT_TEST_SLOW_MS'] === undefined ? undefined : Number(process.env['VMCRYPT_TEST_SLOW_MS']);

export class ManagerApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(`${status} ${code}: ${message}`);
    this.status = status;
    this.code = code;
  }
}

/**
 * A small HTTPS client of the manager API for tests: the manager's self-signed certificate is
 * pinned by thumbprint (checked on every response's socket), a Bearer token after login.
 */
export class ManagerApi {
  readonly url: string;
  readonly thumbprint: string;
  readonly token: string | undefined;

  constructor(url: string, thumbprint: string, token?: string) {
    this.url = url;
    this.thumbprint = thumbprint;
    this.token = token;
  }

  static async login(url: string, thumbprint: string, user: string, password: string): Promise<ManagerApi> {
    const anon = new ManagerApi(url, thumbprint);
    const r = await anon.call<{ token: string }>('POST', '/api/session', { user, password });
    return new ManagerApi(url, thumbprint, r.token);
  }

  /** Any answer, errors included. */
  raw<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> {
    const u = new URL(path, this.url);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request({
        host: u.hostname, port: u.port, path: u.pathname + u.search, method, rejectUnauthorized: false,
        headers: {
          ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': payload.length }),
          ...(this.token === undefined ? {} : { authorization: `Bearer ${this.token}` }),
        },
      }, (res) => {
        const raw = (res.socket as unknown as { getPeerCertificate(): { raw?: Buffer } }).getPeerCertificate().raw;
        const tp = raw === undefined ? '' : createHash('sha256').update(raw).digest('hex');
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          if (tp !== '' && tp !== this.thumbprint) {
            reject(new Error(`manager certificate ${tp} is not the pinned ${this.thumbprint}`));
            return;
          }
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown = null;
          try {
            json = text === '' ? null : JSON.parse(text);
          } catch {
            json = { text };
          }
          resolve({ status: res.statusCode ?? 0, body: json as T });
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** A 2xx answer's body, or ManagerApiError. */
  async call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    const t0 = Date.now();
    const r = await this.raw<T | ApiErrorBody>(method, path, body);
    if (SLOW_MS !== undefined && Date.now() - t0 >= SLOW_MS) console.info(`slow manager call: ${method} ${path} ${Date.now() - t0} ms`);
    if (r.status >= 400) {
      const e = (r.body as ApiErrorBody | null)?.error;
      throw new ManagerApiError(r.status, e?.code ?? '?', e?.message ?? JSON.stringify(r.body));
    }
    return r.body as T;
  }

  get<T = Record<string, unknown>>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  post<T = Record<string, unknown>>(path: string, body: unknown = {}): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  delete<T = Record<string, unknown>>(path: string): Promise<T> {
    return this.call<T>('DELETE', path);
  }

  /** Polls GET /api/tasks/ID until the task has ended; returns its info. */
  async waitTask<T = Record<string, unknown>>(id: string, timeoutMs = 120_000): Promise<T & { state: string }> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const t = await this.get<T & { state: string }>(`/api/tasks/${id}`);
      if (t.state === 'success' || t.state === 'error') return t;
      if (Date.now() > end) throw new Error(`task ${id} still ${t.state} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
