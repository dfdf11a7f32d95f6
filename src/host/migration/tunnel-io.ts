import { connect, createServer, type Server, type Socket } from 'node:net';
import { HostError } from '../errors.js';
import type { Endpoint } from './migration-spec.js';

/**
 * Channel "tunnel": the source QEMU migrates into a unix socket of its agent, which seals the
 * stream into frames (frames.ts) and sends them over TCP to the destination agent, which checks
 * them strictly in order and feeds the plain stream to the destination QEMU's unix socket.
 * QEMU's return path flows back the same way, sealed in the reverse direction. The destination
 * ends with a sealed reverse "last" frame holding its verdict: the source reports success only
 * after it. Any bad frame closes both connections, so both QEMUs see the migration fail.
 */

/** The destination's verdict, sealed in its last frame. */
export interface Verdict {
  readonly ok: boolean;
  readonly code?: string;
  readonly message?: string;
}

/** Copies `from` → `to` through `map`, pausing `from` while `to` is full. */
export function pump(from: Socket, to: Socket, map: (chunk: Buffer) => Buffer[], onError: (err: unknown) => void): void {
  let waiting = false;
  from.on('data', (chunk: Buffer) => {
    let out: Buffer[];
    try {
      out = map(chunk);
    } catch (err) {
      onError(err);
      return;
    }
    let ok = true;
    for (const b of out) ok = to.write(b) && ok;
    if (!ok && !to.destroyed && !waiting) {
      waiting = true;
      from.pause();
      to.once('drain', () => {
        waiting = false;
        from.resume();
      });
    }
  });
}

/** TCP connection to the destination agent, bounded by `timeoutMs`. */
export function connectTcp(e: Endpoint, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: e.host, port: e.port });
    s.setNoDelay(true);
    const t = setTimeout(() => s.destroy(new Error('connect timeout')), timeoutMs);
    s.once('connect', () => {
      clearTimeout(t);
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', (err) => {
      clearTimeout(t);
      reject(new HostError('HOST_MIGRATION_FAILED', `cannot reach the destination ${e.host}:${e.port}: ${err.message}`));
    });
  });
}

/** A unix socket server at `path` (for the source QEMU); `pauseOnConnect`: Node does not read its sockets. */
export function listenUnix(path: string, pauseOnConnect = false): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer({ pauseOnConnect });
    srv.once('error', reject);
    srv.listen(path, () => resolve(srv));
  });
}

/** The verdict JSON of the last reverse frame (bounded fields; unreadable = not ok). */
export function parseVerdict(b: Buffer): Verdict {
  try {
    const v = JSON.parse(b.toString('utf8')) as Record<string, unknown>;
    return {
      ok: v['ok'] === true,
      ...(typeof v['code'] === 'string' ? { code: v['code'].slice(0, 64) } : {}),
      ...(typeof v['message'] === 'string' ? { message: v['message'].slice(0, 500) } : {}),
    };
  } catch {
    return { ok: false, message: 'unreadable verdict' };
  }
}
