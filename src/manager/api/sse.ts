import type { FastifyReply, FastifyRequest } from 'fastify';

export interface SseStream {
  send(event: string, data: unknown, id?: string | number): void;
  close(): void;
  readonly closed: boolean;
}

const KEEPALIVE_MS = 15_000;

/**
 * Server-sent events on a hijacked reply (fastify steps aside; we own the socket). `onClose`
 * runs once, whether the client left or we ended the stream, so subscriptions never leak.
 */
export function openSse(request: FastifyRequest, reply: FastifyReply, onClose: () => void): SseStream {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write(': vmcrypt manager\n\n');
  let closed = false;
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
  keepalive.unref();
  const finish = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(keepalive);
    onClose();
  };
  request.raw.on('close', finish);
  res.on('close', finish);
  return {
    send(event, data, id) {
      if (closed) return;
      // JSON never contains a raw newline, so one data: line per message is enough
      res.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    close() {
      if (closed) return;
      finish();
      res.end();
    },
    get closed() {
      return closed;
    },
  };
}
