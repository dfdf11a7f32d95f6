import { describe, expect, it } from 'vitest';
import { ResponseFramer } from '../../../src/kmip/client/response-framer.js';
import { KmipClientError } from '../../../src/kmip/client/errors.js';

function message(bodyLength: number, fill = 0): Buffer {
  const b = Buffer.alloc(8 + bodyLength, fill);
  b.writeUIntBE(0x42007b, 0, 3);
  b.writeUInt8(1, 3);
  b.writeUInt32BE(bodyLength, 4);
  return b;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof KmipClientError ? err.code : 'other';
  }
  return undefined;
}

describe('ResponseFramer', () => {
  it('reassembles a message delivered byte by byte', () => {
    const f = new ResponseFramer();
    const m = message(16, 7);
    const out: Buffer[] = [];
    for (const byte of m) out.push(...f.push(Buffer.from([byte])));
    expect(out).toHaveLength(1);
    expect(out[0]?.equals(m)).toBe(true);
    expect(f.pendingBytes).toBe(0);
  });

  it('splits several messages arriving in one chunk and keeps the tail', () => {
    const f = new ResponseFramer();
    const a = message(8, 1);
    const b = message(24, 2);
    const c = message(32, 3);
    const expected = Buffer.from(c);
    const out = f.push(Buffer.concat([a, b, c.subarray(0, 10)]));
    expect(out.map((x) => x.length)).toEqual([16, 32]);
    expect(f.pendingBytes).toBe(10);
    expect(f.push(c.subarray(10))[0]?.equals(expected)).toBe(true);
  });

  it('zeroes the bytes it consumed (answers may carry key bytes)', () => {
    const f = new ResponseFramer();
    const chunk = message(16, 0xab);
    const [m] = f.push(chunk);
    expect(m?.subarray(8).every((x) => x === 0xab)).toBe(true);
    expect(chunk.every((x) => x === 0)).toBe(true);
  });

  it('refuses a header that is not a Response Message', () => {
    const f = new ResponseFramer();
    const bad = message(8);
    bad.writeUIntBE(0x420078, 0, 3);
    expect(codeOf(() => f.push(bad))).toBe('KMIP_CLIENT_BAD_RESPONSE');
  });

  it('refuses a length that is not a multiple of 8', () => {
    const f = new ResponseFramer();
    const bad = message(8);
    bad.writeUInt32BE(13, 4);
    expect(codeOf(() => f.push(bad))).toBe('KMIP_CLIENT_BAD_RESPONSE');
  });

  it('refuses an announced length above the maximum before buffering it', () => {
    const f = new ResponseFramer(1024);
    const head = message(0);
    head.writeUInt32BE(0x7ffffff8, 4);
    expect(codeOf(() => f.push(head))).toBe('KMIP_CLIENT_RESPONSE_TOO_LARGE');
  });
});
