// Known-answer tests of the cryptographic services, through vmcrypt's own entry points.
// Sources (each vector is quoted from its document):
// - NIST SP 800-38A (2001) Appendix F — AES ECB/CBC/CTR (U.S. government work, public domain).
// - McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", test cases 2–4, 14, 16, the
//   vectors NIST's GCM validation uses (public specification).
// - RFC 4231 (HMAC-SHA-224/256/384/512), RFC 2202 (HMAC-SHA-1), RFC 6070 (PBKDF2-HMAC-SHA1),
//   RFC 5869 (HKDF): IETF Trust, code components under the Revised BSD licence.
import { describe, expect, it } from 'vitest';
import { BlockCipherMode, CryptographicAlgorithm, DerivationMethod, HashingAlgorithm, PaddingMethod } from '../../../src/kmip/enums.js';
import { derive } from '../../../src/kms/crypto-services/derivation.js';
import { computeMac, macDigest, macMatches } from '../../../src/kms/crypto-services/mac.js';
import { symmetricDecrypt, symmetricEncrypt } from '../../../src/kms/crypto-services/symmetric-cipher.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const noRandom = (): Buffer => {
  throw new Error('no IV should be drawn');
};
const AES = CryptographicAlgorithm.AES;

describe('AES modes (NIST SP 800-38A appendix F)', () => {
  const key = hex('2b7e151628aed2a6abf7158809cf4f3c');
  const p = hex('6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51');
  it.each([
    ['ECB F.1.1', BlockCipherMode.ECB, undefined, '3ad77bb40d7a3660a89ecaf32466ef97 f5d3d58503b9699de785895a96fdbaaf'],
    ['CBC F.2.1', BlockCipherMode.CBC, '000102030405060708090a0b0c0d0e0f', '7649abac8119b246cee98e9b12e9197d 5086cb9b507219ee95db113a917678b2'],
    ['CTR F.5.1', BlockCipherMode.CTR, 'f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff', '874d6191b620e3261bef6864990db6ce 9806f66b7970fdff8617187bb9fffdff'],
  ])('%s', (_name, mode, iv, expected) => {
    const params = { blockCipherMode: mode, ...(mode === BlockCipherMode.CTR ? {} : { paddingMethod: PaddingMethod.None }) };
    const input = { algorithm: AES, key, params, data: p, ...(iv === undefined ? {} : { iv: hex(iv) }) };
    const out = symmetricEncrypt(input, noRandom);
    expect(out.data.toString('hex')).toBe(hex(expected).toString('hex'));
    expect(out.generatedIv).toBeUndefined();
    expect(symmetricDecrypt({ ...input, data: out.data }).equals(p)).toBe(true);
  });

  it('CBC with PKCS5 padding adds a whole block to aligned data and strips it on decrypt', () => {
    const params = { blockCipherMode: BlockCipherMode.CBC, paddingMethod: PaddingMethod.PKCS5 };
    const out = symmetricEncrypt({ algorithm: AES, key, params, data: p, iv: hex('000102030405060708090a0b0c0d0e0f') }, noRandom);
    expect(out.data.subarray(0, 32).toString('hex')).toBe(hex('7649abac8119b246cee98e9b12e9197d 5086cb9b507219ee95db113a917678b2').toString('hex'));
    expect(out.data.length).toBe(48);
  });
});

describe('AES-GCM (McGrew & Viega test cases)', () => {
  const k3 = hex('feffe9928665731c6d6a8f9467308308');
  const p3 = hex('d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255');
  const p4 = p3.subarray(0, 60);
  const a4 = hex('feedfacedeadbeeffeedfacedeadbeefabaddad2');
  const iv = hex('cafebabefacedbaddecaf888');
  it.each([
    ['2', hex('00000000000000000000000000000000'), Buffer.alloc(16), undefined, Buffer.alloc(12), '0388dace60b6a392f328c2b971b2fe78', 'ab6e47d42cec13bdf53a67b21257bddf'],
    ['3', k3, p3, undefined, iv, '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985', '4d5c2af327cd64a62cf35abd2ba6fab4'],
    ['4', k3, p4, a4, iv, '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091', '5bc94fbc3221a5db94fae95ae7121a47'],
    ['14', Buffer.alloc(32), Buffer.alloc(16), undefined, Buffer.alloc(12), 'cea7403d4d606b6e074ec5d3baf39d18', 'd0d1c8a799996bf0265b98b5d48ab919'],
    ['16', Buffer.concat([k3, k3]), p4, a4, iv, '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662', '76fc6ece0f4e1768cddf8853bb2d551b'],
  ])('test case %s', (_n, key, data, aad, nonce, c, t) => {
    const input = { algorithm: AES, key, params: { blockCipherMode: BlockCipherMode.GCM }, data, iv: nonce, ...(aad === undefined ? {} : { aad }) };
    const out = symmetricEncrypt(input, noRandom);
    expect(out.data.toString('hex')).toBe(c);
    expect(out.tag?.toString('hex')).toBe(t);
    expect(symmetricDecrypt({ ...input, data: out.data, tag: hex(t) }).equals(data)).toBe(true);
    const bad = hex(t);
    bad[0] = (bad[0] ?? 0) ^ 1;
    expect(() => symmetricDecrypt({ ...input, data: out.data, tag: bad })).toThrow(expect.objectContaining({ code: 'KMIP_CRYPTOGRAPHIC_FAILURE' }));
  });

  it('draws a 96-bit IV when the client gives none, and returns it', () => {
    const drawn = hex('cafebabefacedbaddecaf888');
    const out = symmetricEncrypt({ algorithm: AES, key: k3, params: { blockCipherMode: BlockCipherMode.GCM }, data: p3 }, (n) => {
      expect(n).toBe(12);
      return Buffer.from(drawn);
    });
    expect(out.generatedIv?.equals(drawn)).toBe(true);
    expect(out.tag?.toString('hex')).toBe('4d5c2af327cd64a62cf35abd2ba6fab4');
  });

  it('refuses what KMIP or the mode does not allow, with Invalid Field', () => {
    const base = { algorithm: AES, key: k3, data: p3 };
    const bad = [
      { ...base, params: {} },
      { ...base, params: { blockCipherMode: BlockCipherMode.CBC, paddingMethod: PaddingMethod.OAEP } },
      { ...base, data: p3.subarray(0, 20), params: { blockCipherMode: BlockCipherMode.CBC } }, // no padding method = None
      { ...base, params: { blockCipherMode: BlockCipherMode.CBC, paddingMethod: PaddingMethod.PKCS5 }, aad: a4 },
      { ...base, params: { blockCipherMode: BlockCipherMode.CBC, paddingMethod: PaddingMethod.PKCS5 }, iv: Buffer.alloc(12) },
      { ...base, params: { blockCipherMode: BlockCipherMode.GCM, randomIv: true }, iv },
      { ...base, params: { blockCipherMode: BlockCipherMode.GCM, cryptographicAlgorithm: CryptographicAlgorithm.TripleDES } },
      { ...base, data: p3.subarray(0, 20), params: { blockCipherMode: BlockCipherMode.ECB, paddingMethod: PaddingMethod.None } },
    ];
    for (const input of bad) expect(() => symmetricEncrypt(input, () => Buffer.alloc(16)), JSON.stringify(input.params)).toThrow(expect.objectContaining({ code: 'KMIP_INVALID_FIELD' }));
    // What the OASIS test cases expect: a bad GCM tag length is General Failure, a Decrypt without IV Invalid Message.
    expect(() => symmetricEncrypt({ ...base, params: { blockCipherMode: BlockCipherMode.GCM, tagLength: 32 } }, () => iv)).toThrow(expect.objectContaining({ code: 'KMIP_GENERAL_FAILURE' }));
    expect(() => symmetricDecrypt({ ...base, params: { blockCipherMode: BlockCipherMode.CBC } })).toThrow(expect.objectContaining({ code: 'KMIP_MISSING_FIELD' }));
  });
});

describe('HMAC (RFC 2202, RFC 4231)', () => {
  const key1 = Buffer.alloc(20, 0x0b);
  const hi = Buffer.from('Hi There');
  it.each([
    [CryptographicAlgorithm.HMAC_SHA1, 'b617318655057264e28bc0b6fb378c8ef146be00'],
    [CryptographicAlgorithm.HMAC_SHA224, '896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22'],
    [CryptographicAlgorithm.HMAC_SHA256, 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'],
    [CryptographicAlgorithm.HMAC_SHA384, 'afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6'],
    [CryptographicAlgorithm.HMAC_SHA512, '87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854'],
  ])('test case 1, algorithm %i (an HMAC key, and an AES key naming the HMAC in its parameters)', (alg, mac) => {
    expect(computeMac(macDigest(alg, undefined), key1, hi).toString('hex')).toBe(mac);
    const viaAes = macDigest(CryptographicAlgorithm.AES, { cryptographicAlgorithm: alg });
    expect(macMatches(viaAes, key1, hi, hex(mac))).toBe(true);
    expect(macMatches(viaAes, key1, Buffer.from('Hi there'), hex(mac))).toBe(false);
    expect(macMatches(viaAes, key1, hi, hex(mac).subarray(0, 10))).toBe(false);
  });

  it('RFC 4231 test case 2 (key shorter than the block)', () => {
    const mac = computeMac('sha256', Buffer.from('Jefe'), Buffer.from('what do ya want for nothing?'));
    expect(mac.toString('hex')).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  it('an HMAC key serves only its own algorithm; CMAC is Feature Not Supported', () => {
    expect(() => macDigest(CryptographicAlgorithm.HMAC_SHA256, { cryptographicAlgorithm: CryptographicAlgorithm.HMAC_SHA1 })).toThrow(expect.objectContaining({ code: 'KMIP_INVALID_FIELD' }));
    expect(() => macDigest(CryptographicAlgorithm.AES, undefined)).toThrow(expect.objectContaining({ code: 'KMIP_INVALID_FIELD' }));
    expect(() => macDigest(CryptographicAlgorithm.AES, { blockCipherMode: BlockCipherMode.CMAC })).toThrow(expect.objectContaining({ code: 'KMIP_FEATURE_NOT_SUPPORTED' }));
  });
});

describe('Derive Key methods', () => {
  const run = (method: number, key: Buffer, lengthBytes: number, parameters: Parameters<typeof derive>[0]['parameters']) =>
    derive({ method, key, keyAlgorithm: AES, lengthBytes, parameters, randomBytes: noRandom });

  it.each([
    [1, 20, '0c60c80f961f0e71f3a9b524af6012062fe037a6'],
    [2, 20, 'ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957'],
    [4096, 20, '4b007901b765489abead49d926f721d065a429c1'],
  ])('PBKDF2-HMAC-SHA1, RFC 6070, c=%i (SHA-1 is the default PRF)', async (c, len, dk) => {
    const out = await run(DerivationMethod.PBKDF2, Buffer.from('password'), len, { salt: Buffer.from('salt'), iterationCount: c });
    expect(out.toString('hex')).toBe(dk);
  });

  it('PBKDF2, RFC 6070 long password and salt, 25 bytes', async () => {
    const out = await run(DerivationMethod.PBKDF2, Buffer.from('passwordPASSWORDpassword'), 25, {
      salt: Buffer.from('saltSALTsaltSALTsaltSALTsaltSALTsalt'),
      iterationCount: 4096,
      cryptographicParameters: { hashingAlgorithm: HashingAlgorithm.SHA1 },
    });
    expect(out.toString('hex')).toBe('3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038');
  });

  it('HMAC derivation is HKDF-SHA-256: RFC 5869 test case 1', async () => {
    const out = await run(DerivationMethod.HMAC, Buffer.alloc(22, 0x0b), 42, {
      salt: hex('000102030405060708090a0b0c'),
      derivationData: hex('f0f1f2f3f4f5f6f7f8f9'),
      cryptographicParameters: { hashingAlgorithm: HashingAlgorithm.SHA256 },
    });
    expect(out.toString('hex')).toBe('3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865');
  });

  it('Encrypt derivation is the encrypted Derivation Data, truncated (SP 800-38A F.1.1)', async () => {
    const out = await run(DerivationMethod.Encrypt, hex('2b7e151628aed2a6abf7158809cf4f3c'), 16, {
      derivationData: hex('6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51'),
      cryptographicParameters: { blockCipherMode: BlockCipherMode.ECB, paddingMethod: PaddingMethod.None },
    });
    expect(out.toString('hex')).toBe('3ad77bb40d7a3660a89ecaf32466ef97');
  });

  it('bounds: iteration count, salt, length; unknown methods are Feature Not Supported', async () => {
    const pw = Buffer.from('password');
    await expect(run(DerivationMethod.PBKDF2, pw, 16, { salt: Buffer.from('s'), iterationCount: 1_000_001 })).rejects.toMatchObject({ code: 'KMIP_INVALID_FIELD' });
    await expect(run(DerivationMethod.PBKDF2, pw, 16, { iterationCount: 1 })).rejects.toMatchObject({ code: 'KMIP_INVALID_FIELD' });
    await expect(run(DerivationMethod.PBKDF2, pw, 513, { salt: Buffer.from('s'), iterationCount: 1 })).rejects.toMatchObject({ code: 'KMIP_INVALID_FIELD' });
    await expect(run(DerivationMethod.HMAC, pw, 16, {})).rejects.toMatchObject({ code: 'KMIP_INVALID_FIELD' });
    await expect(run(DerivationMethod.NIST800_108_F, pw, 16, {})).rejects.toMatchObject({ code: 'KMIP_FEATURE_NOT_SUPPORTED' });
  });
});
