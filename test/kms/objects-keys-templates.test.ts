import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attr, AttributeName, type Attribute } from '../../src/kmip/attributes.js';
import { CryptographicAlgorithm as Alg, CryptographicUsageMask as Usage, KeyFormatType as F, ObjectType, ResultReason, SplitKeyMethod } from '../../src/kmip/enums.js';
import type { ObjectContent } from '../../src/kmip/objects/object-content.js';
import type { SplitKey } from '../../src/kmip/objects/split-key.js';
import { Operation } from '../../src/kmip/operation-codes.js';
import { decodeCreateKeyPairResponse, encodeCreateKeyPairRequest } from '../../src/kmip/payloads/create-key-pair.js';
import { decodeCreateResponse, encodeCreateRequest } from '../../src/kmip/payloads/create.js';
import { openHarness } from './harness.js';
import { objectOps, valueOf } from './objects-helpers.js';

let h: Awaited<ReturnType<typeof openHarness>>;
beforeAll(async () => {
  h = await openHarness();
});
afterAll(async () => {
  await h.close();
});
const ops = objectOps(() => h);

async function create(attributes: Attribute[], templateNames: string[] = []) {
  const r = await h.send('alice', [{ operation: Operation.Create, payload: encodeCreateRequest({ objectType: ObjectType.SymmetricKey, templateAttribute: { templateNames, attributes } }) }]);
  return r.batchItems[0];
}
async function created(attributes: Attribute[], templateNames: string[] = []): Promise<string> {
  const item = await create(attributes, templateNames);
  expect(item?.resultMessage).toBeUndefined();
  return decodeCreateResponse(item?.payload).uniqueIdentifier;
}
const algLen = (alg: number, bits: number) => [attr.enumeration(AttributeName.CryptographicAlgorithm, alg), attr.int(AttributeName.CryptographicLength, bits)];
const symmetric = (material: Buffer, algorithm?: number, length?: number): ObjectContent => ({
  objectType: ObjectType.SymmetricKey,
  symmetricKey: { formatType: F.Raw, material, ...(algorithm === undefined ? {} : { algorithm }), ...(length === undefined ? {} : { length }) },
});
const oddParity = (b: number) => b.toString(2).split('').filter((c) => c === '1').length % 2 === 1;

describe('symmetric keys of the Symmetric Key Foundry profile and HMAC keys', () => {
  it('creates 3DES keys of 168 bits: 24 bytes, odd parity, Cryptographic Length 168', async () => {
    const id = await created(algLen(Alg.TripleDES, 168));
    const c = await ops.content(id);
    if (c.objectType !== ObjectType.SymmetricKey) throw new Error('not a key');
    expect([c.symmetricKey.algorithm, c.symmetricKey.length, c.symmetricKey.material.length]).toEqual([Alg.TripleDES, 168, 24]);
    expect([...c.symmetricKey.material].every(oddParity)).toBe(true);
    expect(valueOf(await ops.attributes(id), AttributeName.CryptographicUsageMask)).toBe(Usage.Encrypt | Usage.Decrypt);
  });

  it.each([
    [Alg.AES, 128], [Alg.AES, 192], [Alg.AES, 256], [Alg.TripleDES, 192],
    [Alg.HMAC_SHA1, 160], [Alg.HMAC_SHA256, 256], [Alg.HMAC_SHA384, 384], [Alg.HMAC_SHA512, 512],
  ])('creates algorithm %i with %i bits; Get returns it with both in the Key Block', async (alg, bits) => {
    const id = await created(algLen(alg, bits));
    const c = await ops.content(id, F.TransparentSymmetricKey);
    if (c.objectType !== ObjectType.SymmetricKey) throw new Error('not a key');
    expect([c.symmetricKey.formatType, c.symmetricKey.algorithm, c.symmetricKey.length, c.symmetricKey.material.length]).toEqual([F.TransparentSymmetricKey, alg, bits, alg === Alg.TripleDES ? 24 : bits / 8]);
    if (alg >= Alg.HMAC_SHA1) expect(valueOf(await ops.attributes(id), AttributeName.CryptographicUsageMask)).toBe(Usage.MacGenerate | Usage.MacVerify);
  });

  it('registers 3DES and HMAC keys and returns the same bytes', async () => {
    const des = Buffer.from('0123456789abcdeffedcba987654321089abcdef01234567', 'hex');
    const id = await ops.registered(symmetric(Buffer.from(des), Alg.TripleDES, 168));
    expect(await ops.content(id)).toEqual(symmetric(des, Alg.TripleDES, 168));
    const mac = Buffer.alloc(64, 0x5a);
    const macId = await ops.registered(symmetric(Buffer.from(mac)), algLen(Alg.HMAC_SHA512, 512));
    expect(await ops.content(macId)).toEqual(symmetric(mac, Alg.HMAC_SHA512, 512));
  });

  it.each([
    ['DES', () => create(algLen(Alg.DES, 64))],
    ['3DES of 112 bits', () => create(algLen(Alg.TripleDES, 112))],
    ['HMAC of 12 bits', () => create(algLen(Alg.HMAC_SHA256, 12))],
    ['a 16-byte key registered as 3DES', () => ops.register(symmetric(Buffer.alloc(16, 1), Alg.TripleDES))],
    ['an RSA symmetric key', () => ops.register(symmetric(Buffer.alloc(32, 1), Alg.RSA))],
  ])('refuses %s (Invalid Field)', async (_label, send) => {
    expect((await send())?.resultReason).toBe(ResultReason.InvalidField);
  });
});

describe('split keys (KMIP 1.4 §2.2.5)', () => {
  const part = (over: Partial<SplitKey> = {}): ObjectContent => ({
    objectType: ObjectType.SplitKey,
    splitKey: { parts: 3, keyPartIdentifier: 2, threshold: 2, method: SplitKeyMethod.XOR, keyBlock: { formatType: F.Raw, material: { bytes: Buffer.alloc(32, 7) }, algorithm: Alg.AES, length: 256 }, ...over },
  });
  it('registers a part and gets it back as sent, with the key algorithm and length recorded', async () => {
    const id = await ops.registered(part(), [attr.name('split-2-of-3')]);
    expect(await ops.content(id)).toEqual(part());
    const attrs = await ops.attributes(id);
    expect([valueOf(attrs, AttributeName.ObjectType), valueOf(attrs, AttributeName.CryptographicAlgorithm), valueOf(attrs, AttributeName.CryptographicLength)]).toEqual([ObjectType.SplitKey, Alg.AES, 256]);
    expect((await h.store.get(id))?.sealedKey?.includes(Buffer.alloc(32, 7))).toBe(false);
    expect((await ops.get(id, F.TransparentSymmetricKey))?.resultReason).toBe(ResultReason.KeyFormatTypeNotSupported);
    expect((await ops.destroy(id))?.resultMessage).toBeUndefined();
    expect((await ops.get(id))?.resultReason).toBe(ResultReason.ItemNotFound);
  });
  it.each([
    ['a threshold above the parts', { threshold: 4 }, ResultReason.InvalidField],
    ['a part identifier of 0', { keyPartIdentifier: 0 }, ResultReason.InvalidField],
    ['prime-field sharing without a Prime Field Size', { method: SplitKeyMethod.PolynomialSharingPrimeField }, ResultReason.InvalidMessage],
  ])('refuses %s', async (_label, over, reason) => {
    expect((await ops.register(part(over)))?.resultReason).toBe(reason);
  });
});

describe('templates (KMIP 1.0–1.2 §2.2.6, Template-Attribute names §2.1.8)', () => {
  const template = (attributes: Attribute[]): ObjectContent => ({ objectType: ObjectType.Template, template: { attributes } });
  let ecTemplate = '';
  beforeAll(async () => {
    await ops.registered(template([...algLen(Alg.AES, 256), attr.int(AttributeName.CryptographicUsageMask, Usage.Encrypt), attr.text(AttributeName.ObjectGroup, 'db'), attr.name('not-inherited')]), [attr.name('aes-256')]);
    ecTemplate = await ops.registered(template(algLen(Alg.EC, 384)), [attr.name('ec-384')]);
  });

  it('Create takes the attributes of the named template; the request overrides them; its Name is not inherited', async () => {
    const id = await created([], ['aes-256']);
    const attrs = await ops.attributes(id);
    expect([valueOf(attrs, AttributeName.CryptographicAlgorithm), valueOf(attrs, AttributeName.CryptographicLength), valueOf(attrs, AttributeName.CryptographicUsageMask), valueOf(attrs, AttributeName.ObjectGroup)]).toEqual([Alg.AES, 256, Usage.Encrypt, 'db']);
    expect(attrs.some((a) => a.name === AttributeName.Name)).toBe(false);
    const small = await created([attr.int(AttributeName.CryptographicLength, 128)], ['aes-256']);
    expect(valueOf(await ops.attributes(small), AttributeName.CryptographicLength)).toBe(128);
  });

  it('Register and Create Key Pair resolve template names too; Get returns the template', async () => {
    const id = await ops.registered(symmetric(Buffer.alloc(32, 3)), [], ['aes-256']);
    expect(valueOf(await ops.attributes(id), AttributeName.ObjectGroup)).toBe('db');
    const r = await h.send('alice', [{ operation: Operation.CreateKeyPair, payload: encodeCreateKeyPairRequest({ common: { templateNames: ['ec-384'], attributes: [] } }) }]);
    expect(r.batchItems[0]?.resultMessage).toBeUndefined();
    const pub = decodeCreateKeyPairResponse(r.batchItems[0]?.payload).publicKeyUniqueIdentifier;
    expect(valueOf(await ops.attributes(pub), AttributeName.CryptographicLength)).toBe(384);
    expect(await ops.content(ecTemplate)).toEqual(template(algLen(Alg.EC, 384)));
  });

  it('answers Item Not Found for an unknown or another identity\'s template, Invalid Field for a template holding server attributes', async () => {
    expect((await create([], ['no-such-template']))?.resultReason).toBe(ResultReason.ItemNotFound);
    const other = await h.send('mallory', [{ operation: Operation.Create, payload: encodeCreateRequest({ objectType: ObjectType.SymmetricKey, templateAttribute: { templateNames: ['aes-256'], attributes: [] } }) }]);
    expect(other.batchItems[0]?.resultReason).toBe(ResultReason.ItemNotFound);
    expect((await ops.register(template([attr.enumeration(AttributeName.State, 2)])))?.resultReason).toBe(ResultReason.InvalidField);
  });
});
