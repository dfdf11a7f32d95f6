// @ts-check
import { sessionToken } from './api.js';

/** One SSE message is one JSON record; anything larger is not ours and ends the stream. */
const MAX_BUFFER = 1024 * 1024;

/**
 * Follows a server-sent-events route. EventSource cannot send an Authorization header, so this
 * reads the stream with fetch and splits it itself (text/event-stream: blank-line separated
 * blocks of `event:`, `data:`, `id:` lines). Resolves when the server ends the stream or
 * `signal` aborts it.
 * @param {string} path
 * @param {(event: string, data: any, id: string | undefined) => void} onMessage
 * @param {AbortSignal} signal
 */
export async function followSse(path, onMessage, signal) {
  const token = sessionToken();
  const res = await fetch(path, {
    headers: { accept: 'text/event-stream', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    cache: 'no-store',
    signal,
  });
  if (!res.ok || res.body === null) throw new Error(`stream ${path}: HTTP ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      if (buffer.length > MAX_BUFFER) throw new Error(`stream ${path}: message over ${MAX_BUFFER} bytes`);
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        dispatch(block, onMessage);
      }
    }
  } catch (err) {
    if (signal.aborted) return;
    throw err;
  } finally {
    reader.releaseLock();
  }
}

/** @param {string} block @param {(event: string, data: any, id: string | undefined) => void} onMessage */
function dispatch(block, onMessage) {
  let event = 'message';
  let id;
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
  if (data.length === 0) return;
  let parsed;
  try {
    parsed = JSON.parse(data.join('\n'));
  } catch {
    return;
  }
  onMessage(event, parsed, id);
}
