// Hash and RNG Retrieve through the real KeyServer. Vectors: FIPS 180-2 appendix B ("abc",
// public domain) and the OASIS KMIP 1.4 test case CS-AC-M-7-14 (test/vectors/kmip-profiles-1.4).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HashingAlgorithm, ResultReason } from '../../../src/kmip/enums.js';
import { Operation } from '../../../src/kmip/operation-codes.js';
import { decodeHashResponse, encodeHashRequest } from '../../../src/kmip/payloads/hash.js';
import { decodeRngRetrieveResponse, encodeRngRetrieveRequest } from '../../../src/kmip/payloads/rng-retrieve.js';
import { openHarness } from '../harness.js';
import { cryptoDriver } from './kms-driver.js';

type H = Awaited<ReturnType<typeof openHarness>>;
let h: H;
let kms: ReturnType<typeof cryptoDriver>;
beforeAll(async () => {
  h = await openHarness();
  kms = cryptoDriver(h);
});
afterAll(async () => {
  await h.close();
});

const oasisData = Buffer.from('01020304050607080910111213141516', 'hex');

describe('Hash', () => {
  it.each([
    [HashingAlgorithm.SHA256, Buffer.from('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    [HashingAlgorithm.SHA256, oasisData, 'ad41233d22cf9322e3a7ff49a13da434797abed3bab80950a1a0d4e582b7ea72'],
    [HashingAlgorithm.SHA512, oasisData, '406a806f76c06b90c8aca278995d4271037f91124ebfaba5475f1f59ee21ebe3a0cc7f5ca6f2183d360bcc762cef68713de7c6498eb08dc591075ca62f7a0717'],
  ])('algorithm %i', async (hashingAlgorithm, data, digest) => {
    const r = decodeHashResponse(await kms.ok(Operation.Hash, encodeHashRequest({ cryptographicParameters: { hashingAlgorithm }, data })));
    expect(r.data?.toString('hex')).toBe(digest);
  });

  it('needs a Hashing Algorithm it serves (MD5 is not)', async () => {
    expect((await kms.call(Operation.Hash, encodeHashRequest({ data: oasisData }))).resultReason).toBe(ResultReason.InvalidField);
    expect((await kms.call(Operation.Hash, encodeHashRequest({ cryptographicParameters: { hashingAlgorithm: HashingAlgorithm.MD5 }, data: oasisData }))).resultReason).toBe(ResultReason.InvalidField);
  });
});

describe('RNG Retrieve', () => {
  it('answers Data Length fresh random bytes, 1 to 65536', async () => {
    const a = decodeRngRetrieveResponse(await kms.ok(Operation.RNGRetrieve, encodeRngRetrieveRequest({ dataLength: 32 }))).data;
    const b = decodeRngRetrieveResponse(await kms.ok(Operation.RNGRetrieve, encodeRngRetrieveRequest({ dataLength: 32 }))).data;
    expect(a?.length).toBe(32);
    expect(a?.equals(b ?? Buffer.alloc(0))).toBe(false);
    for (const dataLength of [0, 65537]) expect((await kms.call(Operation.RNGRetrieve, encodeRngRetrieveRequest({ dataLength }))).resultReason).toBe(ResultReason.InvalidField);
  });
});
