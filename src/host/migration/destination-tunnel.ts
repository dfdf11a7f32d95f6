import { connect, createServer, type Server, type Socket } from 'node:net';
import { HostError } from '../errors.js';
import { FrameOpener, FrameSealer, type MigrationKey } from './frames.js';
import { nativeRelay, NativeRelay } from './relay-native.js';
import { pump, type Verdict } from './tunnel-io.js';

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
  /** The native forward path (relay.c) with its key copy until it starts; undefined: Node's. */
  #native: { key: MigrationKey; relay?: NativeRelay } | undefined;

  private constructor(k: MigrationKey, server: Server, port: number, qemuPath: string, native: boolean) {
    this.#sealer = new FrameSealer(k, 'reverse');
    if (native) this.#native = { key: { key: Buffer.from(k.key), nonce: Buffer.from(k.nonce), migrationId: k.migrationId } };
    this.#opener = new FrameOpener(k, 'forward');
    this.#server = server;
    this.port = port;
    this.#qemuPath = qemuPath;
    this.lastFrame = new Promise<void>((ok, fail) => (this.#settle = { ok, fail }));
    this.lastFrame.catch(() => undefined);
    server.on('connection', (s) => void this.#onConnection(s));
  }

  static async listen(k: MigrationKey, host: string, qemuPath: string): Promise<DestinationTunnel> {
    // native: Node never reads the source's connection (the relay thread does)
    const native = nativeRelay().addon !== undefined;
    const srv = createServer({ pauseOnConnect: native });
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(0, host, () => resolve());
    });
    const a = srv.address();
    const port = typeof a === 'object' && a !== null ? a.port : 0;
    return new DestinationTunnel(k, srv, port, qemuPath, native);
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
    pump(q, s, (c) => this.#sealer.seal(c), (err) => this.#fail(err));
    const addon = nativeRelay().addon;
    if (this.#native !== undefined && addon !== undefined) {
      const k = this.#native.key;
      try {
        this.#native.relay = NativeRelay.start(addon, 'open', k, 'forward', s, q, {
          onLast: () => {
            this.#settle?.ok();
            this.#settle = undefined;
          },
          onError: (err) => this.#fail(err),
        });
      } catch (err) {
        this.#fail(err);
      } finally {
        k.key.fill(0);
      }
      return;
    }
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
    // stop reading frames (not a shutdown: the verdict below must still reach the source)
    this.#native?.relay?.stop(false);
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
    this.#native?.relay?.stop(false);
    this.#native?.key.key.fill(0);
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
