import { describe, expect, it } from 'vitest';
import { createCipheriv, pbkdf2Sync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XtsCipher } from '../../src/crypto/xts.js';
import { nativeXts } from '../../src/crypto/xts-native.js';
import { repoRoot } from '../helpers/cli.js';

interface XtsVector { name: string; key1: string; key2: string; sector: number; pt: string; ct: string }
const vectors = JSON.parse(readFileSync(join(repoRoot, 'test/vectors/crypto/ieee1619-xts.json'), 'utf8')) as { vectors: XtsVector[] };
const pbkdf2 = JSON.parse(readFileSync(join(repoRoot, 'test/vectors/crypto/pbkdf2.json'), 'utf8')) as {
  pbkdf2: { password: string; salt: string; iterations: number; dkLen: number; dk: string }[];
};

/** Reference: one OpenSSL XTS object per 512-byte sector (slow but independent of our code). */
function referenceEncrypt(key: Buffer, data: Buffer, firstSector: number): Buffer {
  const out = Buffer.alloc(data.length);
  for (let s = 0; s < data.length / 512; s++) {
    const iv = Buffer.alloc(16);
    iv.writeBigUInt64LE(BigInt(firstSector + s));
    createCipheriv('aes-256-xts', key, iv).update(data.subarray(s * 512, (s + 1) * 512)).copy(out, s * 512);
  }
  return out;
}

describe('XTS on bulk ECB', () => {
  for (const v of vectors.vectors) {
    it(`IEEE 1619 ${v.name}`, () => {
      const pt = Buffer.from(v.pt, 'hex');
      const x = new XtsCipher(Buffer.from(v.key1 + v.key2, 'hex'), pt.length);
      const buf = Buffer.from(pt);
      x.encrypt(buf, v.sector);
      expect(buf.toString('hex')).toBe(v.ct);
      x.decrypt(buf, v.sector);
      expect(buf.equals(pt)).toBe(true);
    });
  }

  it('uses the native OpenSSL addon for LUKS keys (built by npm ci; see docs/crypto.md)', () => {
    const x = new XtsCipher(randomBytes(64));
    expect(x.backend, `native XTS addon: ${nativeXts().reason}`).toBe('openssl');
    x.destroy();
    // OpenSSL 3 refuses equal key halves: such a key takes the WebAssembly path instead of failing.
    const same = randomBytes(32);
    expect(new XtsCipher(Buffer.concat([same, same])).backend).toBe('wasm');
  });

  for (const backend of ['openssl', 'wasm', 'js'] as const) {
    it(`${backend}: matches per-sector OpenSSL XTS over many sectors, slices and 64-bit sector numbers`, () => {
      const key = randomBytes(64);
      const x = new XtsCipher(key, 512, backend);
      expect(x.backend).toBe(backend);
      const data = randomBytes(600 * 1024); // several 64 KiB slices, not a multiple of one
      for (const first of [0, 4095, 2 ** 32 - 3, 2 ** 40 + 7]) {
        const buf = Buffer.from(data);
        x.encrypt(buf, first);
        expect(buf.equals(referenceEncrypt(key, data, first))).toBe(true);
        x.decrypt(buf, first);
        expect(buf.equals(data)).toBe(true);
      }
    });
  }

  it('native: a destroyed cipher refuses to run instead of using freed memory', () => {
    const x = new XtsCipher(randomBytes(64));
    x.destroy();
    expect(() => x.encrypt(Buffer.alloc(512), 0)).toThrow();
  });

  it('the WebAssembly kernel and the plain JS pass agree', () => {
    const key = randomBytes(64);
    const data = randomBytes(700 * 1024);
    const a = Buffer.from(data);
    const b = Buffer.from(data);
    new XtsCipher(key, 512, 'wasm').encrypt(a, 77);
    new XtsCipher(key, 512, 'js').encrypt(b, 77);
    expect(a.equals(b)).toBe(true);
    new XtsCipher(key, 512, 'js').decrypt(a, 77);
    expect(a.equals(data)).toBe(true);
    for (const v of vectors.vectors) {
      const pt = Buffer.from(v.pt, 'hex');
      const buf = Buffer.from(pt);
      new XtsCipher(Buffer.from(v.key1 + v.key2, 'hex'), pt.length, 'js').encrypt(buf, v.sector);
      expect(buf.toString('hex')).toBe(v.ct);
    }
  });

  it('handles unaligned buffers and rejects partial sectors', () => {
    const key = randomBytes(64);
    const x = new XtsCipher(key);
    const backing = Buffer.alloc(1024 + 1);
    const data = backing.subarray(1); // byteOffset 1
    randomBytes(1024).copy(data);
    const ref = referenceEncrypt(key, Buffer.from(data), 9);
    x.encrypt(data, 9);
    expect(data.equals(ref)).toBe(true);
    expect(() => x.encrypt(Buffer.alloc(100), 0)).toThrow(/512-byte/);
    expect(() => new XtsCipher(Buffer.alloc(48))).toThrow(/xts key/);
  });

  it('PBKDF2-HMAC-SHA256 vector (RFC 7914 §11)', () => {
    for (const v of pbkdf2.pbkdf2) {
      expect(pbkdf2Sync(v.password, v.salt, v.iterations, v.dkLen, 'sha256').toString('hex')).toBe(v.dk);
    }
  });
});
