import { describe, expect, it } from 'vitest';
import { KeyCache } from '../../src/host/key-cache.js';
import { HostError } from '../../src/host/errors.js';

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
