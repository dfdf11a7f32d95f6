import { pinnedRequest, type PinnedAnswer } from '../manager-client/pinned-https.js';
import { LabError, LabErrorCode } from './errors.js';

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
 * self-signed certificate pinned by SHA-256 thumbprint (checked before anything is sent),
 * a bearer token after login.
 */
export class LabManagerClient {
  constructor(readonly url: string, readonly thumbprint: string, readonly token?: string) {}

  withToken(token: string): LabManagerClient {
    return new LabManagerClient(this.url, this.thumbprint, token);
  }

  async call<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
    // The CLI's pinned request: the thumbprint is checked on the TLS connection BEFORE the token
    // or the body (passwords, the KMS client key of the trust setup) is written to it.
    let answer: PinnedAnswer;
    try {
      answer = await pinnedRequest({
        baseUrl: this.url, thumbprint: this.thumbprint, method, path,
        ...(body === undefined ? {} : { body }),
        ...(this.token === undefined ? {} : { token: this.token }),
      });
    } catch (err) {
      throw new LabError(LabErrorCode.SETUP_FAILED, `${method} ${path}: ${(err as Error).message}`, { cause: err });
    }
    const { status, body: json } = answer;
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
