import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afFoldJs, afMerge, afSplit } from '../../src/disk/luks1/af.js';

// The LUKS1 anti-forensic fold runs in the native addon when it is built (native/xts-af.c); the
// JavaScript one is the fallback. Both must give the same bytes (what cryptsetup and QEMU read is
// proven by test/disk/interop.test.ts).
type AfFold = (material: Buffer, keyBytes: number, count: number, hash: string, out: Buffer) => void;
const addonPath = join(import.meta.dirname, '..', '..', 'build', 'Release', 'vmcrypt_xts.node');
const afFold = existsSync(addonPath) ? (createRequire(import.meta.url)(addonPath) as { afFold?: AfFold }).afFold : undefined;

describe('LUKS1 AF split/merge', () => {
  it('merge inverts split (4000 stripes, sha1/sha256/sha512, 32- and 64-byte keys)', () => {
    for (const hash of ['sha1', 'sha256', 'sha512']) {
      for (const n of [32, 64]) {
        const key = randomBytes(n);
        expect(afMerge(afSplit(key, 4000, hash), n, 4000, hash).equals(key)).toBe(true);
      }
    }
  });

  it.skipIf(afFold === undefined)('the native fold equals the JavaScript one, partial digest pieces included', () => {
    for (const hash of ['sha1', 'sha256', 'sha512']) {
      for (const [n, stripes] of [[16, 7], [20, 40], [32, 4000], [48, 13], [64, 4000], [100, 3]] as const) {
        const material = randomBytes(n * stripes);
        const out = Buffer.alloc(n);
        afFold!(material, n, stripes - 1, hash, out);
        expect(out.equals(afFoldJs(material, n, stripes - 1, hash))).toBe(true);
      }
    }
  });

  it.skipIf(afFold === undefined)('the native fold refuses bad sizes and unknown hashes', () => {
    expect(() => afFold!(Buffer.alloc(64), 32, 3, 'sha256', Buffer.alloc(32))).toThrow(/sizes/);
    expect(() => afFold!(Buffer.alloc(64), 32, 2, 'sha256', Buffer.alloc(16))).toThrow(/sizes/);
    expect(() => afFold!(Buffer.alloc(64), 32, 2, 'nohash', Buffer.alloc(32))).toThrow(/hash/);
  });
});
