// KMIP 1.4 server-kept attributes (§3.15 Lease Time, §3.34 Fresh, §3.44 Random Number Generator,
// §3.45–3.48 Sensitive / Always Sensitive / Extractable / Never Extractable) through the real
// KeyServer on SQLite: who sets them, how they change, and what Get does with them.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { attr, AttributeName as A, type Attribute } from '../../src/kmip/attributes.js';
import { CryptographicAlgorithm, CryptographicUsageMask as U, ObjectType, ResultReason, ResultStatus, WrappingMethod } from '../../src/kmip/enums.js';
import { Operation } from '../../src/kmip/operation-codes.js';
import { decodeCreateResponse, encodeCreateRequest } from '../../src/kmip/payloads/create.js';
import { encodeDeleteAttributeRequest } from '../../src/kmip/payloads/delete-attribute.js';
import { decodeGetAttributesResponse, encodeGetAttributesRequest } from '../../src/kmip/payloads/get-attributes.js';
import { encodeDestroyRequest } from '../../src/kmip/payloads/destroy.js';
import { encodeGetRequest } from '../../src/kmip/payloads/get.js';
import { decodeLocateResponse, encodeLocateRequest } from '../../src/kmip/payloads/locate.js';
import { encodeKeyWrappingSpecification } from '../../src/kmip/payloads/key-wrapping.js';
import { encodeModifyAttributeRequest } from '../../src/kmip/payloads/modify-attribute.js';
import { Tag } from '../../src/kmip/tags.js';
import { Fields } from '../../src/kmip/ttlv/index.js';
import { KmsError } from '../../src/kms/errors.js';
import { cryptoDriver } from './crypto-services/kms-driver.js';
import { openHarness } from './harness.js';

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

const SERVER_SET = [A.Fresh, A.LeaseTime, A.Sensitive, A.AlwaysSensitive, A.Extractable, A.NeverExtractable, A.RandomNumberGenerator];

async function create(extra: Attribute[] = []): Promise<string> {
  const attributes = [
    attr.enumeration(A.CryptographicAlgorithm, CryptographicAlgorithm.AES),
    attr.int(A.CryptographicLength, 256),
    attr.int(A.CryptographicUsageMask, U.Encrypt | U.Decrypt),
    ...extra,
  ];
  const p = await kms.ok(Operation.Create, encodeCreateRequest({ objectType: ObjectType.SymmetricKey, templateAttribute: { templateNames: [], attributes } }));
  return decodeCreateResponse(p).uniqueIdentifier;
}

/** The server-kept attributes as a KMIP 1.4 client reads them (1.3 / 1.4 attributes are not sent to older versions). */
async function attrs(id: string, minor = 4): Promise<Map<string, Attribute>> {
  const item = await kms.call(Operation.GetAttributes, encodeGetAttributesRequest({ uniqueIdentifier: id, attributeNames: SERVER_SET }), { major: 1, minor });
  expect(item.resultStatus).toBe(ResultStatus.Success);
  const r = decodeGetAttributesResponse(item.payload);
  return new Map(r.attributes.map((a) => [a.name, a]));
}

const valueOf = (m: Map<string, Attribute>, name: string): unknown => m.get(name)?.value.value;

describe('server-kept attributes (KMIP 1.4 §3.15, §3.34, §3.44–3.48)', () => {
  it('Create sets Fresh, a one-hour Lease Time, the defaults of Sensitive / Extractable and OpenSSL CTR_DRBG as the RNG', async () => {
    const m = await attrs(await create());
    expect(valueOf(m, A.Fresh)).toBe(true);
    expect(valueOf(m, A.LeaseTime)).toBe(3600);
    expect([valueOf(m, A.Sensitive), valueOf(m, A.AlwaysSensitive), valueOf(m, A.Extractable), valueOf(m, A.NeverExtractable)]).toEqual([false, false, true, false]);
    const v = m.get(A.RandomNumberGenerator)?.value;
    if (v === undefined) throw new Error('no Random Number Generator');
    const rng = new Fields(v);
    expect(rng.required(Tag.RNGAlgorithm, 'Enumeration')).toBe(0x03); // DRBG
    expect(rng.required(Tag.DRBGAlgorithm, 'Enumeration')).toBe(0x05); // CTR
    expect(rng.required(Tag.CryptographicAlgorithm, 'Enumeration')).toBe(CryptographicAlgorithm.AES);
  });

  it('a KMIP 1.2 request is answered without the 1.3 / 1.4 ones (Random Number Generator, Sensitive, …)', async () => {
    const id = await create();
    expect([...(await attrs(id, 2)).keys()].sort()).toEqual([A.Fresh, A.LeaseTime].sort());
    expect([...(await attrs(id, 3)).keys()].sort()).toEqual([A.Fresh, A.LeaseTime, A.RandomNumberGenerator].sort());
  });

  it('a registered key has no Random Number Generator (the server did not draw it), the rest as created', async () => {
    const m = await attrs(await kms.aesKey(Buffer.alloc(32, 7), U.Encrypt));
    expect(m.has(A.RandomNumberGenerator)).toBe(false);
    expect(valueOf(m, A.Fresh)).toBe(true);
    expect(valueOf(m, A.LeaseTime)).toBe(3600);
  });

  it('Fresh turns false once Get has returned the material, and stays false', async () => {
    const id = await create();
    await kms.ok(Operation.Get, encodeGetRequest({ uniqueIdentifier: id }));
    expect(valueOf(await attrs(id), A.Fresh)).toBe(false);
    await kms.ok(Operation.Get, encodeGetRequest({ uniqueIdentifier: id }));
    expect(valueOf(await attrs(id), A.Fresh)).toBe(false);
  });

  it('a Get Attributes after a Get in the same batch reads Fresh false (the flip is done before the next item runs)', async () => {
    const id = await create();
    const r = await h.send(
      'alice',
      [
        { operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: id }) },
        { operation: Operation.GetAttributes, payload: encodeGetAttributesRequest({ uniqueIdentifier: id, attributeNames: [A.Fresh] }) },
      ],
      { version: { major: 1, minor: 4 } },
    );
    expect(r.batchItems.map((i) => i.resultStatus)).toEqual([ResultStatus.Success, ResultStatus.Success]);
    expect(decodeGetAttributesResponse(r.batchItems[1]?.payload).attributes.find((a) => a.name === A.Fresh)?.value.value).toBe(false);
  });

  it('Locate by Fresh follows the flips (the index is updated by the Get\'s write)', async () => {
    const [a, b, c] = [await create(), await create(), await create()];
    await kms.ok(Operation.Get, encodeGetRequest({ uniqueIdentifier: b }));
    const locate = async (fresh: boolean): Promise<string[]> =>
      [...decodeLocateResponse(await kms.ok(Operation.Locate, encodeLocateRequest({ attributes: [attr.bool(A.Fresh, fresh)] }))).uniqueIdentifiers].sort();
    expect(await locate(true)).toEqual([a, c].sort());
    expect(await locate(false)).toEqual([b]);
    await kms.ok(Operation.Get, encodeGetRequest({ uniqueIdentifier: a }));
    expect(await locate(true)).toEqual([c]);
    expect(await locate(false)).toEqual([a, b].sort());
  });

  it('a Get whose Fresh flip cannot be stored answers General Failure, without the key, audited', async () => {
    const id = await create();
    const store = h.store as { update: typeof h.store.update };
    const update = store.update;
    store.update = async () => {
      throw new KmsError('STORE_UNAVAILABLE', 'disk gone');
    };
    try {
      // A later item of the batch does not run once the flip failed (Destroy would have its effect unanswered).
      const r = await h.send('alice', [
        { operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: id }) },
        { operation: Operation.Destroy, payload: encodeDestroyRequest({ uniqueIdentifier: id }) },
      ]);
      expect(r.batchItems.map((i) => [i.resultStatus, i.resultReason])).toEqual([[ResultStatus.OperationFailed, ResultReason.GeneralFailure]]);
      expect(h.audit.entries.some((e) => e.operation === 'Destroy')).toBe(false);
      expect(r.batchItems[0]?.payload).toBeUndefined();
      expect(h.audit.entries.at(-1)).toMatchObject({ identity: 'alice', operation: 'message', result: 'failure', message: 'key store: STORE_UNAVAILABLE' });
    } finally {
      store.update = update;
    }
    expect(valueOf(await attrs(id), A.Fresh)).toBe(true);
    await kms.ok(Operation.Get, encodeGetRequest({ uniqueIdentifier: id }));
    expect(valueOf(await attrs(id), A.Fresh)).toBe(false);
  });

  it('a non-Extractable key is refused in clear (Not Extractable), served wrapped, and stays Fresh until then', async () => {
    const id = await create([attr.bool(A.Extractable, false)]);
    const m = await attrs(id);
    expect([valueOf(m, A.Extractable), valueOf(m, A.NeverExtractable)]).toEqual([false, true]);
    expect((await kms.call(Operation.Get, encodeGetRequest({ uniqueIdentifier: id }))).resultReason).toBe(ResultReason.NotExtractable);
    expect(valueOf(await attrs(id), A.Fresh)).toBe(true);
    const kek = await kms.aesKey(Buffer.alloc(32, 0x4b), U.WrapKey);
    const spec = encodeKeyWrappingSpecification({ wrappingMethod: WrappingMethod.Encrypt, encryptionKeyInformation: { uniqueIdentifier: kek }, attributeNames: [] });
    await kms.ok(Operation.Get, encodeGetRequest({ uniqueIdentifier: id, keyWrappingSpecification: spec }));
    expect(valueOf(await attrs(id), A.Fresh)).toBe(false);
  });

  it('a Sensitive key is refused in clear (Sensitive); making it not Sensitive ends Always Sensitive for good', async () => {
    const id = await create([attr.bool(A.Sensitive, true)]);
    expect(valueOf(await attrs(id), A.AlwaysSensitive)).toBe(true);
    expect((await kms.call(Operation.Get, encodeGetRequest({ uniqueIdentifier: id }))).resultReason).toBe(ResultReason.Sensitive);
    await kms.ok(Operation.ModifyAttribute, encodeModifyAttributeRequest({ uniqueIdentifier: id, attribute: attr.bool(A.Sensitive, false) }));
    await kms.ok(Operation.Get, encodeGetRequest({ uniqueIdentifier: id }));
    await kms.ok(Operation.ModifyAttribute, encodeModifyAttributeRequest({ uniqueIdentifier: id, attribute: attr.bool(A.Sensitive, true) }));
    const m = await attrs(id);
    expect([valueOf(m, A.Sensitive), valueOf(m, A.AlwaysSensitive)]).toEqual([true, false]);
  });

  it('clients may not set or change the server-kept ones, nor delete Sensitive / Extractable', async () => {
    for (const a of [attr.bool(A.Fresh, false), attr.bool(A.NeverExtractable, true), attr.bool(A.AlwaysSensitive, true)]) {
      expect((await kms.call(Operation.Create, encodeCreateRequest({ objectType: ObjectType.SymmetricKey, templateAttribute: { templateNames: [], attributes: [attr.enumeration(A.CryptographicAlgorithm, CryptographicAlgorithm.AES), attr.int(A.CryptographicLength, 128), a] } }))).resultReason).toBe(ResultReason.InvalidField);
    }
    const id = await create();
    expect((await kms.call(Operation.ModifyAttribute, encodeModifyAttributeRequest({ uniqueIdentifier: id, attribute: attr.bool(A.Fresh, true) }))).resultReason).toBe(ResultReason.PermissionDenied);
    expect((await kms.call(Operation.DeleteAttribute, encodeDeleteAttributeRequest({ uniqueIdentifier: id, attributeName: A.Extractable }))).resultReason).toBe(ResultReason.PermissionDenied);
  });
});
