import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FRAME_HEADER_BYTES, FrameOpener, FrameSealer, MAX_FRAME_PLAIN, type MigrationKey } from '../../../src/host/migration/frames.js';

/** One sealed frame as one buffer (the sealer returns its parts). */
const one = (s: FrameSealer, data: string | Buffer, last = false): Buffer => Buffer.concat(s.seal(typeof data === 'string' ? Buffer.from(data) : data, last));

const keyOf = (): MigrationKey => ({ key: randomBytes(32), nonce: randomBytes(8), migrationId: randomUUID() });

function open(k: MigrationKey, frames: Buffer[], dir: 'forward' | 'reverse' = 'forward'): { data: Buffer; final?: Buffer } {
  const o = new FrameOpener(k, dir);
  const parts: Buffer[] = [];
  let final: Buffer | undefined;
  // arbitrary chunking: one byte short of each frame boundary
  const all = Buffer.concat(frames);
  for (let i = 0; i < all.length; i += 7777) {
    const r = o.push(all.subarray(i, i + 7777));
    parts.push(...r.data);
    if (r.final !== undefined) final = r.final;
  }
  o.end();
  return final === undefined ? { data: Buffer.concat(parts) } : { data: Buffer.concat(parts), final };
}

describe('migration tunnel frames', () => {
  it('round-trips a stream split into frames, in any chunking, ending with the last frame', () => {
    const k = keyOf();
    const s = new FrameSealer(k, 'forward');
    const a = randomBytes(MAX_FRAME_PLAIN * 2 + 1000);
    const frames = [...s.seal(a), one(s, 'tail'), one(s, Buffer.alloc(0), true)];
    const r = open(k, frames);
    expect(r.data.equals(Buffer.concat([a, Buffer.from('tail')]))).toBe(true);
    expect(r.final?.length).toBe(0);
    expect(() => s.seal(Buffer.from('x'))).toThrow(/after the last/);
  });

  const tampered = (frames: Buffer[], k: MigrationKey, dir: 'forward' | 'reverse' = 'forward') => () => open(k, frames, dir);

  it('refuses a flipped byte, a gap, a replay, a reorder, a missing last frame, data after it', () => {
    const k = keyOf();
    const mk = (): Buffer[] => {
      const s = new FrameSealer(k, 'forward');
      return [one(s, 'one'), one(s, 'two'), one(s, 'three'), one(s, 'end', true)];
    };
    const f = mk();
    const flipped = mk().map((b, i) => (i === 1 ? Buffer.from(b.map((x, j) => (j === FRAME_HEADER_BYTES ? x ^ 1 : x))) : b));
    expect(tampered(flipped, k)).toThrow(expect.objectContaining({ code: 'HOST_MIGRATION_STREAM_TAMPERED' }));
    expect(tampered([f[0], f[2], f[3]] as Buffer[], k)).toThrow(/gap, replay or reorder/);
    expect(tampered([f[0], f[1], f[1], f[2], f[3]] as Buffer[], k)).toThrow(/gap, replay or reorder/);
    expect(tampered([f[1], f[0], f[2], f[3]] as Buffer[], k)).toThrow(/gap, replay or reorder/);
    expect(tampered([f[0], f[1], f[2]] as Buffer[], k)).toThrow(/truncated/);
    expect(tampered([...f, ...mk().slice(0, 1)], k)).toThrow(/after the last/);
    expect(open(k, f).data.toString()).toBe('onetwothree');
  });

  it('a frame moved to another migration, the other direction or stripped of its last mark fails', () => {
    const k = keyOf();
    const s = new FrameSealer(k, 'forward');
    const f = [one(s, 'a'), one(s, 'b', true)];
    expect(tampered(f, { ...k, migrationId: randomUUID() })).toThrow(/failed authentication/);
    expect(tampered(f, k, 'reverse')).toThrow(/flags invalid/);
    const reverse = [one(new FrameSealer(k, 'reverse'), 'a', true)];
    expect(tampered(reverse, k, 'forward')).toThrow(/flags invalid/);
    const unmarked = f.map((b, i) => (i === 1 ? Buffer.from(b.map((x, j) => (j === 8 ? x & ~1 : x))) : b));
    expect(tampered(unmarked, k)).toThrow(/failed authentication/);
  });

  it('refuses an oversized length before buffering it', () => {
    const k = keyOf();
    const bad = Buffer.alloc(FRAME_HEADER_BYTES);
    bad.writeUInt32BE(MAX_FRAME_PLAIN + 17, 0);
    expect(() => new FrameOpener(k, 'forward').push(bad)).toThrow(/out of bounds/);
  });

  it('a destroyed sealer seals nothing more; the caller keeps its own key', () => {
    const k = keyOf();
    const s = new FrameSealer(k, 'forward');
    s.destroy();
    expect(k.key.equals(Buffer.alloc(32))).toBe(false);
    expect(() => s.seal(Buffer.from('x'))).toThrow(/after the last/);
  });
});
