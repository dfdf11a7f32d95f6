import type { Server, Socket } from 'node:net';
import { rm } from 'node:fs/promises';
import { HostError } from '../errors.js';
import { FrameOpener, FrameSealer, MAX_FRAME_PLAIN, type MigrationKey } from './frames.js';
import type { Endpoint } from './migration-spec.js';
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
