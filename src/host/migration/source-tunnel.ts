import type { Server, Socket } from 'node:net';
import { rm } from 'node:fs/promises';
import { HostError } from '../errors.js';
import { FrameOpener, FrameSealer, MAX_FRAME_PLAIN, type MigrationKey } from './frames.js';
import type { Endpoint } from './migration-spec.js';
import { nativeRelay, NativeRelay } from './relay-native.js';
import { connectTcp, listenUnix, parseVerdict, type Verdict } from './tunnel-io.js';

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
  /** The native forward path (relay.c) with its key copy until it starts; undefined: Node's. */
  #native: { key: MigrationKey; relay?: NativeRelay } | undefined;
  #nodeBytes = 0;

  private constructor(k: MigrationKey, tcp: Socket, server: Server, path: string, native: boolean) {
    this.#sealer = new FrameSealer(k, 'forward');
    if (native) this.#native = { key: { key: Buffer.from(k.key), nonce: Buffer.from(k.nonce), migrationId: k.migrationId } };
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
    const native = nativeRelay().addon !== undefined;
    let server: Server;
    try {
      // native: Node never reads QEMU's socket (the relay thread does)
      server = await listenUnix(path, native);
    } catch (err) {
      tcp.destroy();
      throw err;
    }
    return new SourceTunnel(k, tcp, server, path, native);
  }

  /** Plain bytes QEMU sent into the tunnel. */
  get bytes(): number {
    return this.#native?.relay?.bytes ?? this.#nodeBytes;
  }

  /** Which data path moves the forward stream. */
  get dataPath(): 'native' | 'node' {
    return this.#native === undefined ? 'node' : 'native';
  }

  #onQemu(q: Socket): void {
    if (this.#qemu !== undefined) {
      q.destroy();
      return;
    }
    this.#qemu = q;
    this.#server.close();
    q.on('error', () => undefined);
    const addon = nativeRelay().addon;
    if (this.#native !== undefined && addon !== undefined) {
      const k = this.#native.key;
      try {
        this.#native.relay = NativeRelay.start(addon, 'seal', k, 'forward', q, this.#tcp, {
          onEof: () => {
            this.#qemuEnded = true;
            this.#maybeSendLast();
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
      this.#nodeBytes += chunk.length;
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
    if (this.#native !== undefined) {
      this.#native.relay?.finish();
      return;
    }
    for (const f of this.#sealer.seal(Buffer.alloc(0), true)) this.#tcp.write(f);
  }

  #fail(err: unknown): void {
    this.#settle?.fail(err);
    this.#settle = undefined;
    // the relay's fd copies go first (shut down), so both peers see the end now
    this.#native?.relay?.stop(true);
    this.#qemu?.destroy();
    this.#tcp.destroy();
  }

  /** Closes everything and zeroes the key copies. */
  async close(): Promise<void> {
    this.#fail(new HostError('HOST_MIGRATION_FAILED', 'migration tunnel closed'));
    this.#server.close();
    this.#sealer.destroy();
    this.#opener.destroy();
    this.#native?.key.key.fill(0);
    await rm(this.#path, { force: true });
  }
}
