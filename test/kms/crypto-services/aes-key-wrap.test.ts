// RFC 3394 §4.1–4.6 and RFC 5649 §6 test vectors (IETF; code components under the Revised BSD
// licence), through vmcrypt's AES key wrap (OpenSSL id-aesN-wrap / id-aesN-wrap-pad).
import { describe, expect, it } from 'vitest';
import { aesKeyUnwrap, aesKeyWrap } from '../../../src/kms/key-wrap/aes-key-wrap.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const kek128 = hex('000102030405060708090a0b0c0d0e0f');
const kek192 = hex('000102030405060708090a0b0c0d0e0f1011121314151617');
const kek256 = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
const k128 = hex('00112233445566778899aabbccddeeff');
const k192 = hex('00112233445566778899aabbccddeeff0001020304050607');
const k256 = hex('00112233445566778899aabbccddeeff000102030405060708090a0b0c0d0e0f');

describe('AES key wrap, RFC 3394 §4', () => {
  it.each([
    ['4.1', kek128, k128, '1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5'],
    ['4.2', kek192, k128, '96778b25ae6ca435f92b5b97c050aed2468ab8a17ad84e5d'],
    ['4.3', kek256, k128, '64e8c3f9ce0f5ba263e9777905818a2a93c8191e7d6e8ae7'],
    ['4.4', kek192, k192, '031d33264e15d33268f24ec260743edce1c6c7ddee725a936ba814915c6762d2'],
    ['4.5', kek256, k192, 'a8f9bc1612c68b3ff6e6f4fbe30e71e4769c8b80a32cb8958cd5d17d6b254da1'],
    ['4.6', kek256, k256, '28c9f404c4b810f4cbccb35cfb87f8263f5786e2d80ed326cbc7f0e71a99f43bfb988b9b7a02dd21'],
  ])('§%s', (_s, kek, key, wrapped) => {
    expect(aesKeyWrap(kek, key, 'rfc3394').toString('hex')).toBe(wrapped);
    expect(aesKeyUnwrap(kek, hex(wrapped), 'rfc3394').equals(key)).toBe(true);
  });

  it('a flipped bit or another key fails the integrity check: Cryptographic Failure', () => {
    const w = hex('1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5');
    w[5] = (w[5] ?? 0) ^ 0x10;
    expect(() => aesKeyUnwrap(kek128, w, 'rfc3394')).toThrow(expect.objectContaining({ code: 'KMIP_CRYPTOGRAPHIC_FAILURE' }));
    expect(() => aesKeyUnwrap(hex('ff0102030405060708090a0b0c0d0e0f'), hex('1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5'), 'rfc3394')).toThrow(
      expect.objectContaining({ code: 'KMIP_CRYPTOGRAPHIC_FAILURE' }),
    );
  });

  it('RFC 3394 needs a multiple of 8 bytes, at least 16: Invalid Field', () => {
    expect(() => aesKeyWrap(kek128, Buffer.alloc(20), 'rfc3394')).toThrow(expect.objectContaining({ code: 'KMIP_INVALID_FIELD' }));
    expect(() => aesKeyWrap(kek128, Buffer.alloc(8), 'rfc3394')).toThrow(expect.objectContaining({ code: 'KMIP_INVALID_FIELD' }));
    expect(() => aesKeyWrap(Buffer.alloc(10), k128, 'rfc3394')).toThrow(expect.objectContaining({ code: 'KMIP_INVALID_FIELD' }));
  });
});

describe('AES key wrap with padding, RFC 5649 §6', () => {
  const kek = hex('5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8');
  it.each([
    ['20 octets', 'c37b7e6492584340bed12207808941155068f738', '138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a'],
    ['7 octets', '466f7250617369', 'afbeb0f07dfbf5419200f2ccb50bb24f'],
  ])('%s', (_n, key, wrapped) => {
    expect(aesKeyWrap(kek, hex(key), 'rfc5649').toString('hex')).toBe(wrapped);
    expect(aesKeyUnwrap(kek, hex(wrapped), 'rfc5649').toString('hex')).toBe(key);
    expect(() => aesKeyUnwrap(kek, hex(wrapped), 'rfc3394')).toThrow(expect.objectContaining({ code: 'KMIP_CRYPTOGRAPHIC_FAILURE' }));
  });
});
