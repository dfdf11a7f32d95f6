import { createServer, type Server, type Socket } from 'node:net';
import { rm } from 'node:fs/promises';

/**
 * The firmware's debug console (SeaBIOS writes its log to I/O port 0x402; QEMU's isa-debugcon
 * device sends it to a chardev socket, see qemu-argv.ts). The agent listens on a unix socket in
 * its run directory before QEMU starts (QEMU connects while it starts, so no line is missed) and
 * hands each line to `sink`: the VM log, so an encrypted VM's firmware output is sealed like the
 * rest of its log and a live migration moves it with the log. The output is guest-controlled:
 * lines longer than MAX_LINE_CHARS go on in the next, non-printable bytes are shown as '?', at
 * most MAX_LINES per power-on are kept (the rest is read and dropped: the guest never blocks on
 * the port).
 */
export const MAX_LINES = 1000;
export const MAX_LINE_CHARS = 200;
/** Prefix of every firmware line in the VM log. */
export const FIRMWARE_PREFIX = 'firmware: ';
/** close(): how long the lines still in the socket (QEMU has exited) get to arrive. */
const DRAIN_MS = 2000;

export class FirmwareLog {
  readonly #server: Server;
  readonly #path: string;
  #conn: Socket | undefined;
  #partial = '';
  #lines = 0;
  readonly #sink: (line: string) => void;

  private constructor(server: Server, path: string, sink: (line: string) => void) {
    this.#server = server;
    this.#path = path;
    this.#sink = sink;
  }

  /** Listens on `path` (a stale socket there is removed); the first connection is the firmware's. */
  static async listen(path: string, sink: (line: string) => void): Promise<FirmwareLog> {
    await rm(path, { force: true });
    const server = createServer();
    const log = new FirmwareLog(server, path, sink);
    server.on('connection', (c) => log.#accept(c));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        server.on('error', () => undefined);
        resolve();
      });
    });
    return log;
  }

  get path(): string {
    return this.#path;
  }

  #accept(c: Socket): void {
    if (this.#conn !== undefined) {
      c.destroy();
      return;
    }
    this.#conn = c;
    // one peer only: nobody else may connect once QEMU has
    this.#server.close();
    void rm(this.#path, { force: true });
    c.on('data', (chunk: Buffer) => this.#take(chunk));
    c.on('end', () => this.#flush());
    c.on('error', () => undefined);
  }

  #take(chunk: Buffer): void {
    // latin1: one char per byte, so a cut never splits a character into garbage
    const text = this.#partial + chunk.toString('latin1');
    const parts = text.split('\n');
    this.#partial = parts.pop() ?? '';
    for (const p of parts) this.#emitCut(p);
    // a line that never ends is not held without bound
    while (this.#partial.length > MAX_LINE_CHARS) {
      this.#emit(this.#partial.slice(0, MAX_LINE_CHARS));
      this.#partial = this.#partial.slice(MAX_LINE_CHARS);
    }
  }

  /** A long line goes on in the next ones. */
  #emitCut(line: string): void {
    const l = line.replace(/\r$/, '');
    for (let i = 0; i === 0 || i < l.length; i += MAX_LINE_CHARS) this.#emit(l.slice(i, i + MAX_LINE_CHARS));
  }

  #flush(): void {
    if (this.#partial !== '') this.#emitCut(this.#partial);
    this.#partial = '';
  }

  #emit(raw: string): void {
    if (this.#lines > MAX_LINES) return;
    this.#lines++;
    if (this.#lines > MAX_LINES) {
      this.#sink(`${FIRMWARE_PREFIX}(more than ${MAX_LINES} lines: the rest of this power-on is not logged)`);
      return;
    }
    this.#sink(FIRMWARE_PREFIX + printable(raw));
  }

  /** Once QEMU is gone (or never started): the last lines read, the socket file removed. */
  async close(): Promise<void> {
    const c = this.#conn;
    if (c !== undefined && !c.destroyed) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => c.destroy(), DRAIN_MS);
        c.once('close', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    this.#flush();
    if (this.#server.listening) await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await rm(this.#path, { force: true });
  }
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e\t]/g, '?');
}
