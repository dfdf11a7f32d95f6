import { connect, createServer, type Server, type Socket } from 'node:net';
import { rm } from 'node:fs/promises';
import { HostError } from '../errors.js';
import { FrameOpener, FrameSealer, MAX_FRAME_PLAIN, type MigrationKey } from './frames.js';
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
function pump(from: Socket, to: Socket, map: (chunk: Buffer) => Buffer[], onError: (err: unknown) => void): void {
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

function connectTcp(e: Endpoint, timeoutMs: number): Promise<Socket> {
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

function listenUnix(path: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(path, () => resolve(srv));
  });
}

/** Source end. */
export class SourceTunnel {
  readonly verdict: Promise<Verdict>;
  readonly #sealer: FrameSealer;
  readonly #opener: FrameOpener;
  readonly #tcp: Socket;
  readonly #server: Server;
  readonly #path: string;
  #qemu: Socket | undefined;
  #qemuEnded = false;
  #finish = false;
  #lastSent = false;
  #settle: { ok(v: Verdict): void; fail(e: unknown): void } | undefined;
  /** Plain bytes QEMU sent into the tunnel. */
  bytes = 0;

  private constructor(k: MigrationKey, tcp: Socket, server: Server, path: string) {
    this.#sealer = new FrameSealer(k, 'forward');
    this.#opener = new FrameOpener(k, 'reverse');
    this.#tcp = tcp;
    this.#server = server;
    this.#path = path;
    this.verdict = new Promise<Verdict>((ok, fail) => (this.#settle = { ok, fail }));
    this.verdict.catch(() => undefined);
    server.on('connection', (q) => this.#onQemu(q));
    tcp.on('data', (chunk: Buffer) => this.#fromDestination(chunk));
    tcp.on('error', () => undefined);
    tcp.on('close', () => this.#fail(new HostError('HOST_MIGRATION_FAILED', 'the destination closed the migration tunnel before its verdict')));
  }

  /** Connects to the destination first (fails fast when it is gone), then listens at `path` for QEMU. */
  static async open(k: MigrationKey, path: string, endpoint: Endpoint): Promise<SourceTunnel> {
    const tcp = await connectTcp(endpoint, 10_000);
    await rm(path, { force: true });
    let server: Server;
    try {
      server = await listenUnix(path);
    } catch (err) {
      tcp.destroy();
      throw err;
    }
    return new SourceTunnel(k, tcp, server, path);
  }

  #onQemu(q: Socket): void {
    if (this.#qemu !== undefined) {
      q.destroy();
      return;
    }
    this.#qemu = q;
    this.#server.close();
    // QEMU's writes are gathered into frames of up to MAX_FRAME_PLAIN (fewer cipher set-ups),
    // flushed at the latest at the end of this turn of the event loop
    let held: Buffer[] = [];
    let heldBytes = 0;
    let scheduled = false;
    let waiting = false;
    const tcp = this.#tcp;
    const flush = (): void => {
      scheduled = false;
      if (heldBytes === 0 || tcp.destroyed) return;
      const parts = held;
      held = [];
      heldBytes = 0;
      let ok = true;
      try {
        tcp.cork();
        for (const b of this.#sealer.sealFrame(parts)) ok = tcp.write(b) && ok;
        tcp.uncork();
      } catch (err) {
        this.#fail(err);
        return;
      }
      if (!ok && !waiting) {
        waiting = true;
        q.pause();
        tcp.once('drain', () => {
          waiting = false;
          q.resume();
        });
      }
    };
    q.on('data', (chunk: Buffer) => {
      this.bytes += chunk.length;
      let c = chunk;
      while (c.length > 0) {
        const part = c.subarray(0, MAX_FRAME_PLAIN - heldBytes);
        held.push(part);
        heldBytes += part.length;
        c = c.subarray(part.length);
        if (heldBytes >= MAX_FRAME_PLAIN) flush();
      }
      if (heldBytes > 0 && !scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
    q.on('end', () => {
      flush();
      this.#qemuEnded = true;
      this.#maybeSendLast();
    });
    q.on('error', () => undefined);
  }

  #fromDestination(chunk: Buffer): void {
    try {
      const { data, final } = this.#opener.push(chunk);
      for (const d of data) this.#qemu?.write(d);
      if (final !== undefined) {
        this.#settle?.ok(parseVerdict(final));
        this.#settle = undefined;
      }
    } catch (err) {
      this.#fail(err);
    }
  }

  /** QEMU's stream is complete and the source has let go of the VM: the last frame may go. */
  finish(): void {
    this.#finish = true;
    this.#maybeSendLast();
  }

  #maybeSendLast(): void {
    if (!this.#finish || !this.#qemuEnded || this.#lastSent) return;
    this.#lastSent = true;
    for (const f of this.#sealer.seal(Buffer.alloc(0), true)) this.#tcp.write(f);
  }

  #fail(err: unknown): void {
    this.#settle?.fail(err);
    this.#settle = undefined;
    this.#qemu?.destroy();
    this.#tcp.destroy();
  }

  /** Closes everything and zeroes the key copies. */
  async close(): Promise<void> {
    this.#fail(new HostError('HOST_MIGRATION_FAILED', 'migration tunnel closed'));
    this.#server.close();
    this.#sealer.destroy();
    this.#opener.destroy();
    await rm(this.#path, { force: true });
  }
}

function parseVerdict(b: Buffer): Verdict {
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

/** Destination end: one TCP connection accepted, its stream fed to QEMU's unix socket. */
export class DestinationTunnel {
  readonly port: number;
  /** Resolves when the last forward frame was verified (everything before it went to QEMU). */
  readonly lastFrame: Promise<void>;
  readonly #server: Server;
  readonly #sealer: FrameSealer;
  readonly #opener: FrameOpener;
  readonly #qemuPath: string;
  #tcp: Socket | undefined;
  #qemu: Socket | undefined;
  #settle: { ok(): void; fail(e: unknown): void } | undefined;
  #onConnect: (() => void) | undefined;
  #dead = false;

  private constructor(k: MigrationKey, server: Server, port: number, qemuPath: string) {
    this.#sealer = new FrameSealer(k, 'reverse');
    this.#opener = new FrameOpener(k, 'forward');
    this.#server = server;
    this.port = port;
    this.#qemuPath = qemuPath;
    this.lastFrame = new Promise<void>((ok, fail) => (this.#settle = { ok, fail }));
    this.lastFrame.catch(() => undefined);
    server.on('connection', (s) => void this.#onConnection(s));
  }

  static async listen(k: MigrationKey, host: string, qemuPath: string): Promise<DestinationTunnel> {
    const srv = createServer();
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(0, host, () => resolve());
    });
    const a = srv.address();
    const port = typeof a === 'object' && a !== null ? a.port : 0;
    return new DestinationTunnel(k, srv, port, qemuPath);
  }

  /** Called once when the source connected (the no-stream timer stops there). */
  onConnect(fn: () => void): void {
    this.#onConnect = fn;
  }

  async #onConnection(s: Socket): Promise<void> {
    if (this.#tcp !== undefined) {
      s.destroy();
      return;
    }
    this.#tcp = s;
    this.#server.close();
    s.setNoDelay(true);
    s.pause();
    this.#onConnect?.();
    s.on('error', () => undefined);
    s.on('close', () => this.#fail(new HostError('HOST_MIGRATION_STREAM_TAMPERED', 'migration stream ended without its last frame (truncated)')));
    try {
      this.#qemu = await new Promise<Socket>((resolve, reject) => {
        const q = connect(this.#qemuPath);
        q.once('connect', () => resolve(q));
        q.once('error', reject);
      });
    } catch (err) {
      this.#fail(new HostError('HOST_MIGRATION_FAILED', `cannot reach the incoming QEMU: ${String(err)}`));
      return;
    }
    const q = this.#qemu;
    q.on('error', () => undefined);
    pump(s, q, (c) => {
      if (this.#dead) return []; // after a failure the rest is drained, not parsed
      const { data, final } = this.#opener.push(c);
      if (final !== undefined) {
        queueMicrotask(() => {
          this.#settle?.ok();
          this.#settle = undefined;
        });
      }
      return data;
    }, (err) => this.#fail(err));
    pump(q, s, (c) => this.#sealer.seal(c), (err) => this.#fail(err));
    s.resume();
  }

  /** Sends the sealed verdict as the last reverse frame and closes the connection. */
  sendVerdict(v: Verdict): void {
    const tcp = this.#tcp;
    if (tcp === undefined || tcp.destroyed) return;
    try {
      for (const f of this.#sealer.seal(Buffer.from(JSON.stringify(v)), true)) tcp.write(f);
    } catch {
      // a verdict was already sent
    }
    tcp.end();
  }

  #fail(err: unknown): void {
    this.#dead = true;
    const s = this.#settle;
    this.#settle = undefined;
    if (s === undefined) return;
    s.fail(err);
    // tell the source why (its direction is intact even when ours was tampered with)
    if (err instanceof HostError) this.sendVerdict({ ok: false, code: err.code, message: err.message });
    else this.sendVerdict({ ok: false, code: 'HOST_MIGRATION_FAILED', message: 'destination failed' });
    this.#qemu?.destroy();
  }

  close(): void {
    this.#fail(new HostError('HOST_MIGRATION_FAILED', 'incoming migration aborted'));
    this.#server.close();
    const tcp = this.#tcp;
    // a verdict being sent must reach the source: keep draining its input until it closes (a
    // close with unread data would reset the connection and could discard the verdict)
    if (tcp !== undefined && tcp.writableEnded && !tcp.destroyed) {
      tcp.resume();
      tcp.once('end', () => tcp.destroy()).setTimeout(5000, () => tcp.destroy());
    } else tcp?.destroy();
    this.#qemu?.destroy();
    this.#sealer.destroy();
    this.#opener.destroy();
  }
}
