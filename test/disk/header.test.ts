import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { parseHeader, serializeHeader } from '../../src/disk/luks1/header.js';
import { fillKeyslot, newHeader, passphraseFromDek, tryKeyslot } from '../../src/disk/luks1/keyslot.js';
import { afMerge, afSplit } from '../../src/disk/luks1/af.js';
import { DiskError } from '../../src/disk/errors.js';
import { MAX_ITERATIONS, MAX_UNLOCK_WORK } from '../../src/disk/luks1/constants.js';
import type { LuksHeader } from '../../src/disk/luks1/header.js';

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

  it('a keyslot opens with its passphrase only', async () => {
    const mk = randomBytes(64);
    const h = newHeader(mk);
    const dek = randomBytes(32);
    const material = fillKeyslot(h, 3, mk, passphraseFromDek(dek), 1000);
    expect((await tryKeyslot(h, h.keyslots[3]!, material, passphraseFromDek(dek)))?.equals(mk)).toBe(true);
    expect(await tryKeyslot(h, h.keyslots[3]!, material, passphraseFromDek(randomBytes(32)))).toBeUndefined();
    expect(passphraseFromDek(Buffer.from([0x00, 0xab, 0xff])).toString()).toBe('00abff');
  });

  it('bounds the PBKDF2 work a hostile header can make us do (per keyslot and in total)', () => {
    const fresh = (): LuksHeader => {
      const mk = randomBytes(64);
      const h = newHeader(mk);
      fillKeyslot(h, 0, mk, passphraseFromDek(randomBytes(32)), 1000);
      return h;
    };
    const reject = (h: LuksHeader, msg: RegExp): void => {
      let err: unknown;
      try {
        parseHeader(serializeHeader(h), FILE_SIZE);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DiskError);
      expect((err as DiskError).code).toBe('DISK_HEADER_CORRUPT');
      expect((err as DiskError).message).toMatch(msg);
    };
    const one = fresh();
    one.keyslots[0] = { ...one.keyslots[0]!, iterations: 0xffffffff };
    reject(one, /keyslot 0 iterations 4294967295/);
    const mkd = fresh();
    mkd.mkDigestIterations = MAX_ITERATIONS + 1;
    reject(mkd, /master key digest iterations/);
    // Eight slots each within the per-slot bound but together far beyond what one unlock may cost.
    const all = fresh();
    all.keyslots = all.keyslots.map((k) => ({ ...k, active: true, iterations: MAX_ITERATIONS }));
    reject(all, /add up to .* more than the 67108864/);
    expect(MAX_UNLOCK_WORK).toBe(67108864);
    // A realistic header (one slot at QEMU's 2-second default, a few million) passes.
    const real = fresh();
    real.keyslots[0] = { ...real.keyslots[0]!, iterations: 4_000_000 };
    expect(parseHeader(serializeHeader(real), FILE_SIZE).keyslots[0]!.iterations).toBe(4_000_000);
  });

  it('disabled keyslots must point inside the header area, not overlap, and have 4000 stripes', () => {
    const mk = randomBytes(64);
    const base = newHeader(mk);
    fillKeyslot(base, 0, mk, passphraseFromDek(randomBytes(32)), 1000);
    const cases: [(h: LuksHeader) => void, RegExp][] = [
      // A shallow rekey would write key material over the payload (guest data).
      [(h) => (h.keyslots[5] = { ...h.keyslots[5]!, keyMaterialOffset: 5000 }), /keyslot 5 key material offset 5000 lies outside/],
      // … or over the key material of the enabled slot 0 (both keys lost on a crash).
      [(h) => (h.keyslots[1] = { ...h.keyslots[1]!, keyMaterialOffset: h.keyslots[0]!.keyMaterialOffset + 10 }), /keyslot 1 key material overlaps keyslot 0/],
      [(h) => (h.keyslots[7] = { ...h.keyslots[7]!, stripes: 1 }), /keyslot 7 AF stripes 1/],
    ];
    for (const [mutate, msg] of cases) {
      const h: LuksHeader = { ...base, keyslots: base.keyslots.map((k) => ({ ...k })) };
      mutate(h);
      expect(() => parseHeader(serializeHeader(h), FILE_SIZE)).toThrow(msg);
    }
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
