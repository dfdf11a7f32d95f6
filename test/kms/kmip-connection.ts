import { connect, type TLSSocket } from 'node:tls';
import { messageSize } from '../../src/kmip/ttlv/index.js';

export interface TlsMaterial {
  readonly cert?: string;
  readonly key?: string;
  readonly ca: string;
}

/** A raw KMIP-over-TLS connection for tests: send bytes, read one framed response (or null when closed). */
export interface RawKmipConnection {
  readonly socket: TLSSocket;
  write(bytes: Buffer): void;
  /** The next whole response, or null if the server closed the connection first. */
  read(timeoutMs?: number): Promise<Buffer | null>;
  exchange(bytes: Buffer): Promise<Buffer | null>;
  close(): void;
}

export async function openRawConnection(port: number, tls: TlsMaterial): Promise<RawKmipConnection> {
  const socket = connect({
    host: '127.0.0.1',
    port,
    ca: tls.ca,
    ...(tls.cert === undefined ? {} : { cert: tls.cert }),
    ...(tls.key === undefined ? {} : { key: tls.key }),
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
  });
  let buf = Buffer.alloc(0);
  let closed = false;
  let waiter: (() => void) | undefined;
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    waiter?.();
  });
  const onEnd = (): void => {
    closed = true;
    waiter?.();
  };
  socket.on('close', onEnd);
  socket.on('end', onEnd);
  socket.on('error', onEnd);
  const read = async (timeoutMs = 15000): Promise<Buffer | null> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const size = buf.length >= 8 ? messageSize(buf, { maxMessageSize: 16 * 1024 * 1024 }) : undefined;
      if (size !== undefined && buf.length >= size) {
        const out = buf.subarray(0, size);
        buf = buf.subarray(size);
        return out;
      }
      if (closed) return null;
      if (Date.now() > deadline) throw new Error('no response in time');
      await new Promise<void>((resolve) => {
        waiter = resolve;
        setTimeout(resolve, 200);
      });
      waiter = undefined;
    }
  };
  return {
    socket,
    write: (b) => void socket.write(b),
    read,
    async exchange(b) {
      socket.write(b);
      return read();
    },
    close: () => socket.destroy(),
  };
}

/** True if the server lets this TLS identity do a request; false if the handshake or first read fails. */
export async function canTalk(port: number, tls: TlsMaterial, request: Buffer): Promise<boolean> {
  let conn: RawKmipConnection;
  try {
    conn = await openRawConnection(port, tls);
  } catch {
    return false;
  }
  try {
    const r = await conn.exchange(request).catch(() => null);
    return r !== null;
  } finally {
    conn.close();
  }
}
