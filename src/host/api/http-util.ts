import type { IncomingMessage, ServerResponse } from 'node:http';
import { VmcryptError } from '../../errors.js';
import { HostError } from '../errors.js';

export const MAX_BODY_BYTES = 1 << 20;

/** Reads a JSON object body of at most MAX_BODY_BYTES; an empty body is `{}`. */
export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HostError('HOST_BAD_REQUEST', `request body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const buf = Buffer.concat(chunks);
  try {
    if (buf.length === 0) return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(buf.toString('utf8'));
    } catch {
      throw new HostError('HOST_BAD_REQUEST', 'request body is not valid JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new HostError('HOST_BAD_REQUEST', 'request body must be a JSON object');
    return parsed as Record<string, unknown>;
  } finally {
    // bodies may carry key bytes (POST /v1/keys): do not leave them in the chunk buffers
    for (const c of chunks) c.fill(0);
    buf.fill(0);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

export function sendError(res: ServerResponse, err: unknown): void {
  if (err instanceof HostError) {
    sendJson(res, err.httpStatus, { error: { code: err.code, message: err.message } });
  } else if (err instanceof VmcryptError) {
    sendJson(res, 422, { error: { code: err.code, message: err.message } });
  } else {
    sendJson(res, 500, { error: { code: 'HOST_INTERNAL', message: 'internal error' } });
  }
}

export function reqString(body: Record<string, unknown>, key: string, max = 4096): string {
  const v = body[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw new HostError('HOST_BAD_REQUEST', `'${key}' must be a non-empty string of at most ${max} characters`);
  return v;
}

export function optString(body: Record<string, unknown>, key: string, max = 4096): string | undefined {
  return body[key] === undefined ? undefined : reqString(body, key, max);
}

export function reqInt(body: Record<string, unknown>, key: string, min: number, max: number): number {
  const v = body[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new HostError('HOST_BAD_REQUEST', `'${key}' must be an integer in [${min}, ${max}]`);
  return v;
}
