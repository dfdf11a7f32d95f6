import { connect, createServer, type Server, type Socket } from 'node:net';
import { FRAME_HEADER_BYTES } from '../../../src/host/migration/frames.js';

export type Mutation = 'flip' | 'drop' | 'replay' | 'truncate';

/**
 * A man in the middle between the two agents' tunnel ends: passes the reverse direction as is
 * and applies one mutation to forward frame number `at` (flip one ciphertext byte, drop it,
 * send it twice, or cut the connection before it).
 */
export class FrameProxy {
  readonly #server: Server;
  readonly #sockets: Socket[] = [];
  port = 0;

  constructor(target: { host: string; port: number }, mutation: Mutation, at: number) {
    this.#server = createServer((src) => {
      const dst = connect(target.port, target.host);
      this.#sockets.push(src, dst);
      src.on('error', () => dst.end());
      dst.on('error', () => src.end());
      // half-close in order, so the destination's sealed verdict reaches the source
      src.on('end', () => dst.end());
      dst.on('end', () => src.end());
      dst.on('data', (b: Buffer) => src.write(b));
      let buf = Buffer.alloc(0);
      let n = 0;
      src.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        while (buf.length >= FRAME_HEADER_BYTES) {
          const len = buf.readUInt32BE(0);
          if (buf.length < FRAME_HEADER_BYTES + len) break;
          const frame = Buffer.from(buf.subarray(0, FRAME_HEADER_BYTES + len));
          buf = buf.subarray(FRAME_HEADER_BYTES + len);
          const i = n++;
          if (i !== at) dst.write(frame);
          else if (mutation === 'flip') {
            frame[FRAME_HEADER_BYTES + 5] = (frame[FRAME_HEADER_BYTES + 5] ?? 0) ^ 0x01;
            dst.write(frame);
          } else if (mutation === 'replay') {
            dst.write(frame);
            dst.write(frame);
          } else if (mutation === 'truncate') {
            src.destroy();
            dst.destroy();
            return;
          }
          // drop: nothing
        }
      });
    });
  }

  async listen(): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', () => resolve()));
    const a = this.#server.address();
    this.port = typeof a === 'object' && a !== null ? a.port : 0;
    return { host: '127.0.0.1', port: this.port };
  }

  close(): void {
    this.#server.close();
    for (const s of this.#sockets) s.destroy();
  }
}
