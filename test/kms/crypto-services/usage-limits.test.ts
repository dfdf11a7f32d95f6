// Usage Limits (KMIP 1.4 §3.21) through the real KeyServer: the Count starts at the Total, each
// Encrypt / MAC takes what it protects, and a use the Count cannot cover is refused and takes nothing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AttributeName as A, attr, type Attribute } from '../../../src/kmip/attributes.js';
import { BlockCipherMode, CryptographicUsageMask as U, ResultReason } from '../../../src/kmip/enums.js';
import { Operation } from '../../../src/kmip/operation-codes.js';
import { encodeEncryptRequest } from '../../../src/kmip/payloads/encrypt.js';
import { decodeGetAttributesResponse, encodeGetAttributesRequest } from '../../../src/kmip/payloads/get-attributes.js';
import { Tag } from '../../../src/kmip/tags.js';
import { Fields, ttlv } from '../../../src/kmip/ttlv/index.js';
import { openHarness } from '../harness.js';
import { cryptoDriver } from './kms-driver.js';

type H = Awaited<ReturnType<typeof openHarness>>;
let h: H;
let kms: ReturnType<typeof cryptoDriver>;
beforeEach(async () => {
  h = await openHarness();
  kms = cryptoDriver(h);
});
afterEach(async () => {
  await h.close();
});

const limits = (total: bigint, unit: number, count?: bigint): Attribute => ({
  name: A.UsageLimits,
  value: ttlv.struct(Tag.AttributeValue, [
    ttlv.long(Tag.UsageLimitsTotal, total),
    ...(count === undefined ? [] : [ttlv.long(Tag.UsageLimitsCount, count)]),
    ttlv.enumeration(Tag.UsageLimitsUnit, unit),
  ]),
});

async function count(id: string): Promise<bigint> {
  const r = decodeGetAttributesResponse(await kms.ok(Operation.GetAttributes, encodeGetAttributesRequest({ uniqueIdentifier: id, attributeNames: [A.UsageLimits] })));
  const v = r.attributes[0]?.value;
  if (v === undefined) throw new Error('no Usage Limits');
  return new Fields(v).required(Tag.UsageLimitsCount, 'LongInteger');
}

const ecb = (id: string, bytes: number) => encodeEncryptRequest({ uniqueIdentifier: id, cryptographicParameters: { blockCipherMode: BlockCipherMode.ECB }, data: Buffer.alloc(bytes, 1) });

describe('Usage Limits (KMIP 1.4 §3.21)', () => {
  it('Byte: the Count starts at the Total (a client Count is ignored), Encrypt takes its bytes, then Permission Denied', async () => {
    const id = await kms.aesKey(Buffer.alloc(16, 7), U.Encrypt, [limits(32n, 1, 5n)]);
    expect(await count(id)).toBe(32n);
    await kms.ok(Operation.Encrypt, ecb(id, 16));
    expect(await count(id)).toBe(16n);
    expect((await kms.call(Operation.Encrypt, ecb(id, 32))).resultReason).toBe(ResultReason.PermissionDenied);
    expect(await count(id)).toBe(16n); // a refused use takes nothing
    await kms.ok(Operation.Encrypt, ecb(id, 16));
    expect((await kms.call(Operation.Encrypt, ecb(id, 16))).resultReason).toBe(ResultReason.PermissionDenied);
  });

  it('Object: one per use; a malformed Usage Limits is refused at Register', async () => {
    const id = await kms.aesKey(Buffer.alloc(16, 7), U.Encrypt, [limits(1n, 2)]);
    await kms.ok(Operation.Encrypt, ecb(id, 64));
    expect((await kms.call(Operation.Encrypt, ecb(id, 16))).resultReason).toBe(ResultReason.PermissionDenied);
    await expect(kms.aesKey(Buffer.alloc(16, 7), U.Encrypt, [limits(0n, 1)])).rejects.toThrow();
    await expect(kms.aesKey(Buffer.alloc(16, 7), U.Encrypt, [limits(8n, 9)])).rejects.toThrow();
  });

  it('a key without Usage Limits is not limited and gets no such attribute', async () => {
    const id = await kms.aesKey(Buffer.alloc(16, 7), U.Encrypt, [attr.text('x-note', 'free')]);
    for (let i = 0; i < 3; i++) await kms.ok(Operation.Encrypt, ecb(id, 64));
    const r = decodeGetAttributesResponse(await kms.ok(Operation.GetAttributes, encodeGetAttributesRequest({ uniqueIdentifier: id, attributeNames: [A.UsageLimits] })));
    expect(r.attributes).toEqual([]);
  });
});
