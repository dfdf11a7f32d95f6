import { chmod, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { KmsError } from '../errors.js';

/**
 * The KMS's local admin channel: a unix socket (`DIR/admin.sock`, mode 0600, inside the 0700 data
 * directory). Why it is safe to send unseal shares over it: only this user (and root) can
 * reach a socket in a 0700 directory, and that user can already read the data directory; it
 * never listens on the network, so the KMIP port takes no admin request; each connection carries
 * one request of at most 4 KiB, answered and closed; shares are never logged or echoed.
 *
 * Protocol: one JSON line in ({"op":"status"} | {"op":"unseal","share":"…"}), one JSON line out.
 */
export type AdminRequest =
  | { readonly op: 'status' }
  | { readonly op: 'unseal'; readonly share: string }
  | { readonly op: 'rotate'; readonly shares?: readonly string[]; readonly autoUnsealFile?: string };
export type AdminStatus = {
  readonly sealed: boolean;
  readonly given: number;
  readonly threshold: number;
  readonly rotation?: { readonly state: string; readonly done: number; readonly total: number; readonly error?: string };
};
export type AdminResponse = AdminStatus | { readonly error: { readonly code: string; readonly message: string } };

const MAX_REQUEST = 4096;
/** sun_path is 108 bytes on Linux, NUL included. */
const MAX_PATH = 107;

export interface AdminSocket {
  close(): Promise<void>;
}

function parse(line: string): AdminRequest {
  const v = JSON.parse(line) as Record<string, unknown>;
  if (v['op'] === 'status') return { op: 'status' };
  if (v['op'] === 'unseal' && typeof v['share'] === 'string') return { op: 'unseal', share: v['share'] };
  if (v['op'] === 'rotate') {
    const shares = v['shares'];
    const file = v['autoUnsealFile'];
    if (Array.isArray(shares) && shares.length <= 16 && shares.every((x) => typeof x === 'string')) return { op: 'rotate', shares: shares as string[] };
    if (typeof file === 'string') return { op: 'rotate', autoUnsealFile: file };
  }
  throw new KmsError('CONFIG_INVALID', 'unknown admin request');
}

async function removeStale(path: string): Promise<void> {
  // A socket file left by a crashed KMS answers nothing; one that answers belongs to a live KMS.
  const live = await new Promise<boolean>((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (live) throw new KmsError('CONFIG_INVALID', `${path} is in use: another KMS serves this data directory`);
  await unlink(path).catch(() => {});
}

export async function startAdminSocket(path: string, handle: (req: AdminRequest) => Promise<AdminResponse>): Promise<AdminSocket> {
  if (Buffer.byteLength(path) > MAX_PATH) throw new KmsError('CONFIG_INVALID', `admin socket path ${path} is longer than ${MAX_PATH} bytes: use a shorter data directory path`);
  await removeStale(path);
  const server: Server = createServer((sock: Socket) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.setTimeout(10_000, () => sock.destroy());
    sock.on('error', () => sock.destroy());
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_REQUEST) {
        sock.end(JSON.stringify({ error: { code: 'CONFIG_INVALID', message: 'admin request too large' } }) + '\n');
        return;
      }
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const line = buf.slice(0, nl);
      buf = '';
      sock.pause();
      void (async () => {
        let res: AdminResponse;
        try {
          res = await handle(parse(line));
        } catch (err) {
          res = { error: { code: err instanceof KmsError ? err.code : 'CONFIG_INVALID', message: err instanceof KmsError ? err.message : 'bad admin request' } };
        }
        sock.end(JSON.stringify(res) + '\n');
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  await chmod(path, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        void unlink(path).catch(() => {});
      }),
  };
}

/** One request to a running KMS's admin socket. */
export async function adminRequest(path: string, req: AdminRequest, timeoutMs = 30_000): Promise<AdminResponse> {
  return new Promise<AdminResponse>((resolve, reject) => {
    const s = createConnection(path);
    let buf = '';
    s.setEncoding('utf8');
    s.setTimeout(timeoutMs, () => {
      s.destroy();
      reject(new KmsError('CONFIG_INVALID', `no answer from ${path}`));
    });
    s.once('connect', () => s.write(JSON.stringify(req) + '\n'));
    s.on('data', (c: string) => {
      buf += c;
      if (buf.length > MAX_REQUEST) s.destroy();
    });
    s.once('end', () => {
      try {
        resolve(JSON.parse(buf) as AdminResponse);
      } catch {
        reject(new KmsError('CONFIG_INVALID', `bad answer from ${path}`));
      }
    });
    s.once('error', (err) => reject(new KmsError('CONFIG_INVALID', `cannot reach the KMS admin socket ${path} (is vmcrypt kms serve running on this data dir?): ${err.message}`, { cause: err })));
  });
}
