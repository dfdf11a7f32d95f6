import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { parseHeader, serializeHeader } from '../../src/disk/luks1/header.js';
import { fillKeyslot, newHeader, passphraseFromDek, tryKeyslot } from '../../src/disk/luks1/keyslot.js';
import { afMerge, afSplit } from '../../src/disk/luks1/af.js';
import { DiskError } from '../../src/disk/errors.js';

const FILE_SIZE = 4096 * 512 + (1 << 20);

describe('LUKS1 header and keyslots (pure)', () => {
  it('serialises and parses back the same header', () => {
    const mk = randomBytes(64);
    const h = newHeader(mk);
    fillKeyslot(h, 0, mk, passphraseFromDek(randomBytes(32)), 1000);
    const buf = serializeHeader(h);
    expect(buf.length).toBe(592);
    expect(parseHeader(buf, FILE_SIZE)).toEqual(h);
  });

  it('AF split/merge round-trips (4000 stripes, sha1/sha256/sha512)', () => {
    const key = randomBytes(64);
    for (const hash of ['sha1', 'sha256', 'sha512']) {
      const split = afSplit(key, 4000, hash);
      expect(split.length).toBe(64 * 4000);
      expect(afMerge(split, 64, 4000, hash).equals(key)).toBe(true);
    }
  });

  it('a keyslot opens with its passphrase only', () => {
    const mk = randomBytes(64);
    const h = newHeader(mk);
    const dek = randomBytes(32);
    const material = fillKeyslot(h, 3, mk, passphraseFromDek(dek), 1000);
    expect(tryKeyslot(h, h.keyslots[3]!, material, passphraseFromDek(dek))?.equals(mk)).toBe(true);
    expect(tryKeyslot(h, h.keyslots[3]!, material, passphraseFromDek(randomBytes(32)))).toBeUndefined();
    expect(passphraseFromDek(Buffer.from([0x00, 0xab, 0xff])).toString()).toBe('00abff');
  });

  it('fuzz: mutated headers give a DiskError or a valid header, never anything else', () => {
    const mk = randomBytes(64);
    const h = newHeader(mk);
    fillKeyslot(h, 0, mk, passphraseFromDek(randomBytes(32)), 1000);
    const good = serializeHeader(h);
    let rejected = 0;
    for (let i = 0; i < 2000; i++) {
      const buf = Buffer.from(good);
      const flips = 1 + (i % 8);
      for (let f = 0; f < flips; f++) buf[Math.floor(Math.random() * buf.length)] = Math.floor(Math.random() * 256);
      const size = i % 5 === 0 ? Math.floor(Math.random() * FILE_SIZE) : FILE_SIZE;
      try {
        const parsed = parseHeader(buf.subarray(0, Math.min(592, size)), size);
        expect(parsed.keyslots.length).toBe(8);
      } catch (err) {
        expect(err).toBeInstanceOf(DiskError);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(0);
  });
});
