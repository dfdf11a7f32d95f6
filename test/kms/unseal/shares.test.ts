import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { combineShares, parseShare, splitUnsealKey } from '../../../src/kms/unseal/shares.js';

/** GF(2^8) with the AES polynomial x^8+x^4+x^3+x+1 (0x11b), written here independently of the library. */
function gfMul(a: number, b: number): number {
  let p = 0;
  for (let i = 0; i < 8; i++) {
    if (b & 1) p ^= a;
    const hi = a & 0x80;
    a = (a << 1) & 0xff;
    if (hi) a ^= 0x1b;
    b >>= 1;
  }
  return p;
}
function gfInv(a: number): number {
  // a^254 = a^-1 in GF(2^8)
  let r = 1;
  for (let i = 0; i < 254; i++) r = gfMul(r, a);
  return r;
}
/** Lagrange interpolation at x = 0, byte by byte (share layout: y bytes then x). */
function interpolateAtZero(shares: Buffer[]): Buffer {
  const xs = shares.map((s) => s[s.length - 1]!);
  const out = Buffer.alloc(shares[0]!.length - 1);
  for (let byte = 0; byte < out.length; byte++) {
    let acc = 0;
    shares.forEach((s, i) => {
      let num = 1;
      let den = 1;
      xs.forEach((xj, j) => {
        if (j === i) return;
        num = gfMul(num, xj);
        den = gfMul(den, xs[i]! ^ xj);
      });
      acc ^= gfMul(s[byte]!, gfMul(num, gfInv(den)));
    });
    out[byte] = acc;
  }
  return out;
}

const subsets = <T>(xs: T[], k: number): T[][] =>
  k === 0 ? [[]] : xs.flatMap((x, i) => subsets(xs.slice(i + 1), k - 1).map((rest) => [x, ...rest]));

describe('unseal shares (shamir-secret-sharing, checked against an independent GF(256) interpolation)', () => {
  it('any 3 of 5 shares give the key back; the library and our own interpolation agree', async () => {
    const key = randomBytes(32);
    const shares = await splitUnsealKey(key, 5, 3);
    expect(shares).toHaveLength(5);
    for (const set of subsets(shares, 3)) {
      const parsed = set.map(parseShare);
      expect(interpolateAtZero(parsed)).toEqual(key);
      expect(await combineShares(parsed)).toEqual(key);
    }
  });

  it('two shares of a 3-threshold split do not give the key', async () => {
    const key = randomBytes(32);
    const shares = await splitUnsealKey(key, 5, 3);
    expect(await combineShares(shares.slice(0, 2).map(parseShare))).not.toEqual(key);
  });

  it('a fixed vector: a degree-1 polynomial written by hand combines to its constant term', async () => {
    // secret byte s, slope a: share(x) = s ^ a·x. Two shares at x = 1 and x = 2, for every byte.
    const secret = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
    const slope = Buffer.alloc(32, 0x53);
    const at = (x: number) => Buffer.concat([Buffer.from(secret.map((s, i) => s ^ gfMul(slope[i]!, x))), Buffer.from([x])]);
    expect(await combineShares([at(1), at(2)])).toEqual(secret);
    expect(await combineShares([at(7), at(200)])).toEqual(secret);
  });

  it('refuses a mistyped share by its checksum, and malformed text', async () => {
    const [s] = await splitUnsealKey(randomBytes(32), 3, 2);
    const typo = `${s!.slice(0, 10)}${s![10] === 'a' ? 'b' : 'a'}${s!.slice(11)}`;
    expect(() => parseShare(typo)).toThrow(expect.objectContaining({ code: 'UNSEAL_SHARE_INVALID', message: expect.stringContaining('checksum') }));
    expect(() => parseShare('not a share')).toThrow(expect.objectContaining({ code: 'UNSEAL_SHARE_INVALID' }));
    expect(() => parseShare(` ${s!.toUpperCase()}\n`)).not.toThrow();
  });
});
