import { describe, expect, it, vi } from 'vitest';
import { KeyCache } from '../../../src/host/keys/key-cache.js';
import { HostError } from '../../../src/host/errors.js';

describe('KeyCache', () => {
  it('stores copies, lists ids only, zeroes on remove and clear', () => {
    const cache = new KeyCache();
    const key = Buffer.alloc(32, 7);
    cache.put('kek-1', key);
    key.fill(0);
    expect(cache.with('kek-1', (k) => k[0])).toBe(7);
    expect(cache.ids()).toEqual(['kek-1']);
    let leaked: Buffer | undefined;
    cache.with('kek-1', (k) => {
      leaked = k;
    });
    expect(leaked?.every((b) => b === 0)).toBe(true);
    expect(cache.remove('kek-1')).toBe(true);
    expect(cache.has('kek-1')).toBe(false);
    cache.put('a', Buffer.alloc(32, 1));
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it('really zeroes the memory it held: on remove, on overwrite and on clear (agent exit)', () => {
    const cache = new KeyCache();
    // the copy put() makes is the cache's own memory: catch it as it is made
    const held = (keyId: string, fill: number): Buffer => {
      const from = vi.spyOn(Buffer, 'from');
      try {
        cache.put(keyId, Buffer.alloc(32, fill));
        const copy = from.mock.results.map((r) => r.value as unknown).find((v): v is Buffer => Buffer.isBuffer(v) && v.length === 32);
        if (copy === undefined) throw new Error('no copy made');
        expect(copy.every((b) => b === fill)).toBe(true);
        return copy;
      } finally {
        from.mockRestore();
      }
    };
    const removed = held('a', 1);
    const replaced = held('b', 2);
    held('b', 3);
    const cleared = held('c', 4);
    cache.remove('a');
    cache.clear();
    for (const b of [removed, replaced, cleared]) expect(b.every((x) => x === 0)).toBe(true);
  });

  it('refuses bad ids and lengths, reports a missing key with its id', () => {
    const cache = new KeyCache();
    expect(() => cache.put('has space', Buffer.alloc(32))).toThrow(HostError);
    expect(() => cache.put('k', Buffer.alloc(16))).toThrow(/32 bytes/);
    expect(() => cache.with('nope', () => 0)).toThrow(/nope is not in this host's key cache/);
  });

  it('tells listeners which ids arrived', () => {
    const cache = new KeyCache();
    const seen: string[] = [];
    cache.onPut((ids) => seen.push(...ids));
    cache.put('k1', Buffer.alloc(32, 2));
    expect(seen).toEqual(['k1']);
  });
});
