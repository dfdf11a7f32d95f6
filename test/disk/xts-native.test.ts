// The native AES-256-XTS kernels (native/xts-vaes.c, native/xts-aesni.c) and the OpenSSL path of
// the addon, each forced in turn, checked bit for bit against Node's own OpenSSL `aes-256-xts`
// (one cipher object per data unit, IV = plain64 sector number) and against the published
// IEEE 1619 XTS-AES-256 vectors 10–14 (source and licence in vectors/ieee1619-xts256.json).
import { describe, expect, it } from 'vitest';
import { createCipheriv, createDecipheriv, randomBytes, randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

type Impl = 'vaes' | 'aesni' | 'openssl';
type State = { readonly __brand: 'XtsState' };
interface Addon {
  create(key: Buffer, encrypt: boolean, impl?: Impl | 'auto'): State;
  crypt(state: State, data: Buffer, firstSector: number, unitBytes: number): void;
  destroy(state: State): void;
  implOf(state: State): Impl;
  impls(): Impl[];
}

const root = join(import.meta.dirname, '..', '..');
const addonPath = join(root, 'build', 'Release', 'vmcrypt_xts.node');
const addon = existsSync(addonPath) ? (createRequire(import.meta.url)(addonPath) as Addon) : undefined;
const vectors = JSON.parse(readFileSync(join(import.meta.dirname, 'vectors', 'ieee1619-xts256.json'), 'utf8')) as {
  vectors: { name: string; key: string; sector: number; pt: string; ct: string }[];
};

/** Node's OpenSSL, one data unit per cipher object: the reference. */
function reference(key: Buffer, data: Buffer, first: number, unit: number, encrypt: boolean): Buffer {
  const out = Buffer.alloc(data.length);
  for (let off = 0, n = BigInt(first); off < data.length; off += unit, n++) {
    const iv = Buffer.alloc(16);
    iv.writeBigUInt64LE(n);
    const c = encrypt ? createCipheriv('aes-256-xts', key, iv) : createDecipheriv('aes-256-xts', key, iv);
    c.update(data.subarray(off, off + unit)).copy(out, off);
    c.final();
  }
  return out;
}

function run(impl: Impl, key: Buffer, data: Buffer, first: number, unit: number, encrypt: boolean): Buffer {
  const st = addon!.create(key, encrypt, impl);
  try {
    expect(addon!.implOf(st)).toBe(impl);
    const buf = Buffer.from(data);
    addon!.crypt(st, buf, first, unit);
    return buf;
  } finally {
    addon!.destroy(st);
  }
}

/** Sector numbers that cross 2^32 and reach the largest a JS number carries exactly. */
function sectorNumber(i: number): number {
  switch (i % 4) {
    case 0:
      return randomInt(0, 2 ** 32);
    case 1:
      return 2 ** 32 - 1 - randomInt(0, 8);
    case 2:
      return randomInt(2 ** 32, 2 ** 48);
    default:
      return Number.MAX_SAFE_INTEGER - 100 - randomInt(0, 1000);
  }
}

describe.skipIf(addon === undefined)('native AES-256-XTS (vmcrypt_xts addon)', () => {
  const impls = addon?.impls() ?? [];

  it('offers the OpenSSL path everywhere and picks the fastest usable one by default', () => {
    expect(impls).toContain('openssl');
    const st = addon!.create(randomBytes(64), true);
    expect(addon!.implOf(st)).toBe(impls[0]);
    addon!.destroy(st);
    if (process.arch === 'x64' && /\baes\b/.test(readFileSync('/proc/cpuinfo', 'utf8'))) expect(impls).toContain('aesni');
  });

  for (const impl of ['vaes', 'aesni', 'openssl'] as const) {
    describe.skipIf(!impls.includes(impl))(`${impl} path`, () => {
      it('matches Node OpenSSL per 512-byte sector: random keys, sectors (incl. > 2^32), sizes, both directions', () => {
        for (let i = 0; i < 120; i++) {
          const key = randomBytes(64);
          // 1–9 sectors exercise the groups of 4 and every remainder; some calls are larger.
          const sectors = i % 10 === 9 ? 64 + randomInt(0, 64) : 1 + (i % 9);
          // An odd byte offset: the kernels must not assume aligned buffers.
          const data = randomBytes(sectors * 512 + 1).subarray(1);
          const first = sectorNumber(i);
          for (const encrypt of [true, false]) {
            expect(run(impl, key, data, first, 512, encrypt).equals(reference(key, data, first, 512, encrypt))).toBe(true);
          }
        }
      });

      it('matches Node OpenSSL for other data-unit sizes (16 bytes to 4 KiB)', () => {
        for (const unit of [16, 32, 48, 112, 128, 144, 496, 1024, 4096]) {
          const key = randomBytes(64);
          const data = randomBytes(unit * 5);
          const first = sectorNumber(unit);
          for (const encrypt of [true, false]) {
            expect(run(impl, key, data, first, unit, encrypt).equals(reference(key, data, first, unit, encrypt))).toBe(true);
          }
        }
      });

      it('decrypt inverts encrypt over 1 MiB', () => {
        const key = randomBytes(64);
        const data = randomBytes(1 << 20);
        const first = sectorNumber(3);
        const enc = run(impl, key, data, first, 512, true);
        expect(enc.equals(data)).toBe(false);
        expect(run(impl, key, enc, first, 512, false).equals(data)).toBe(true);
      });

      for (const v of vectors.vectors) {
        it(`IEEE 1619 XTS-AES-256 ${v.name} (data unit ${v.sector})`, () => {
          const key = Buffer.from(v.key, 'hex');
          const pt = Buffer.from(v.pt, 'hex');
          const ct = Buffer.from(v.ct, 'hex');
          expect(run(impl, key, pt, v.sector, 512, true).toString('hex')).toBe(v.ct);
          expect(run(impl, key, ct, v.sector, 512, false).toString('hex')).toBe(v.pt);
          // The same unit inside a longer call, as the disk engine makes them.
          const three = Buffer.concat([randomBytes(512), pt, randomBytes(512)]);
          expect(run(impl, key, three, v.sector - 1, 512, true).subarray(512, 1024).equals(ct)).toBe(true);
        });
      }
    });
  }

  it('VMCRYPT_XTS_IMPL chooses the path when create() is given none', () => {
    const saved = process.env['VMCRYPT_XTS_IMPL'];
    try {
      for (const impl of impls) {
        process.env['VMCRYPT_XTS_IMPL'] = impl;
        const st = addon!.create(randomBytes(64), false);
        expect(addon!.implOf(st)).toBe(impl);
        addon!.destroy(st);
      }
    } finally {
      if (saved === undefined) delete process.env['VMCRYPT_XTS_IMPL'];
      else process.env['VMCRYPT_XTS_IMPL'] = saved;
    }
  });

  it('refuses an unknown path, equal key halves, bad arguments and use after destroy', () => {
    expect(() => addon!.create(randomBytes(64), true, 'rot13' as Impl)).toThrow(/not supported/);
    const half = randomBytes(32);
    for (const impl of impls) {
      expect(() => addon!.create(Buffer.concat([half, half]), true, impl)).toThrow(/halves/);
      expect(() => addon!.create(randomBytes(32), true, impl)).toThrow(/64-byte/);
      const st = addon!.create(randomBytes(64), true, impl);
      expect(() => addon!.crypt(st, Buffer.alloc(500), 0, 512)).toThrow(/whole number/);
      expect(() => addon!.crypt(st, Buffer.alloc(512), -1, 512)).toThrow(/sector/);
      addon!.destroy(st);
      expect(() => addon!.crypt(st, Buffer.alloc(512), 0, 512)).toThrow(/destroyed/);
    }
  });
});
