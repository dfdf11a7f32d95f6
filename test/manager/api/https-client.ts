import { request } from 'node:https';

export interface CallResult {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  json<T = unknown>(): T;
}

/**
 * One HTTPS call to the manager under test. A server-sent-events answer resolves with its first
 * chunk (then the socket is closed), so a test can call a stream route without waiting forever.
 */
export function httpsCall(
  base: string,
  opts: { method: string; path: string; token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> },
): Promise<CallResult> {
  const url = new URL(opts.path, base);
  const payload = opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: opts.method,
        // the test server's self-signed certificate; what is under test is the API, not the trust setup
        rejectUnauthorized: false,
        headers: {
          ...(opts.token !== undefined ? { authorization: `Bearer ${opts.token}` } : {}),
          ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}),
          ...opts.headers,
        },
      },
      (res) => {
        const contentType = String(res.headers['content-type'] ?? '');
        const chunks: Buffer[] = [];
        const done = (): void => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, contentType, body, json: <T>() => JSON.parse(body) as T });
        };
        if (contentType.startsWith('text/event-stream')) {
          res.once('data', (c: Buffer) => {
            chunks.push(c);
            done();
            req.destroy();
          });
          return;
        }
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', done);
        res.on('error', reject);
      },
    );
    req.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
    });
    req.setTimeout(60_000, () => req.destroy(new Error(`${opts.method} ${opts.path}: no answer`)));
    req.end(payload);
  });
}

/** Reads a server-sent-events stream until `until` says stop; returns the parsed `data:` payloads. */
export function readSse<T>(base: string, path: string, token: string, until: (messages: T[]) => boolean): Promise<{ status: number; messages: T[] }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method: 'GET', rejectUnauthorized: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
      const messages: T[] = [];
      let buf = '';
      const finish = (): void => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, messages });
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = block.split('\n').find((l) => l.startsWith('data: '));
          if (data !== undefined) messages.push(JSON.parse(data.slice(6)) as T);
        }
        if (until(messages)) finish();
      });
      res.on('end', finish);
    });
    req.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
    });
    req.end();
  });
}
