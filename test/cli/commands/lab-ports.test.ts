import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { pickPort, portIsFree } from '../../../src/cli/lab/ports.js';

/**
 * The lab's ports (src/cli/lab/ports.ts): a well-known port when it is free, else one the OS
 * picks (what used to be `lab up --kms-port` falling back; the lab now does it for every part).
 */
const held: Server[] = [];
afterEach(async () => {
  await Promise.all(held.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

async function hold(): Promise<number> {
  const s = createServer();
  held.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const a = s.address();
  if (a === null || typeof a === 'string') throw new Error('no port');
  return a.port;
}

describe('lab ports', () => {
  it('a busy preferred port falls back to a free one; a free one is kept; a port already taken by the lab is not reused', async () => {
    const busy = await hold();
    expect(await portIsFree(busy)).toBe(false);
    const taken = new Set<number>();
    const got = await pickPort(busy, taken);
    expect(got).not.toBe(busy);
    expect(await portIsFree(got)).toBe(true);
    expect(taken.has(got)).toBe(true);
    // the chosen port is free again (bound for a moment only); the lab still must not hand it out twice
    expect(await pickPort(got, taken)).not.toBe(got);
    const fresh = new Set<number>();
    expect(await pickPort(got, fresh)).toBe(got);
  });
});
