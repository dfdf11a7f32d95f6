import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attr, AttributeName, type Attribute } from '../../src/kmip/attributes.js';
import { CryptographicAlgorithm as Alg, CryptographicUsageMask as Usage, HashingAlgorithm, KeyFormatType as F, LinkType, ObjectType, ResultReason, ResultStatus, State } from '../../src/kmip/enums.js';
import { Operation } from '../../src/kmip/operation-codes.js';
import { decodeCreateKeyPairResponse, encodeCreateKeyPairRequest } from '../../src/kmip/payloads/create-key-pair.js';
import { decodeGetAttributesResponse, encodeGetAttributesRequest } from '../../src/kmip/payloads/get-attributes.js';
import { decodeGetObjectResponse, encodeGetRequest } from '../../src/kmip/payloads/get.js';
import { decodeLocateResponse, encodeLocateRequest } from '../../src/kmip/payloads/locate.js';
import { Tag } from '../../src/kmip/tags.js';
import { Fields } from '../../src/kmip/ttlv/index.js';
import { openHarness } from './harness.js';

type H = Awaited<ReturnType<typeof openHarness>>;
let h: H;
beforeAll(async () => {
  h = await openHarness();
});
afterAll(async () => {
  await h.close();
});

const ta = (attributes: Attribute[]) => ({ templateNames: [], attributes });
const pairItem = (common: Attribute[], priv: Attribute[] = [], pub: Attribute[] = []) => ({
  operation: Operation.CreateKeyPair,
  payload: encodeCreateKeyPairRequest({ common: ta(common), privateKey: ta(priv), publicKey: ta(pub) }),
});

async function createPair(common: Attribute[], priv: Attribute[] = [], pub: Attribute[] = []) {
  const r = await h.send('alice', [pairItem(common, priv, pub)]);
  expect(r.batchItems[0]?.resultMessage).toBeUndefined();
  return decodeCreateKeyPairResponse(r.batchItems[0]?.payload);
}

async function getKey(id: string, keyFormatType?: number) {
  const r = await h.send('alice', [{ operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: id, ...(keyFormatType === undefined ? {} : { keyFormatType }) }) }]);
  return r.batchItems[0];
}

async function attributes(id: string) {
  const r = await h.send('alice', [{ operation: Operation.GetAttributes, payload: encodeGetAttributesRequest({ uniqueIdentifier: id, attributeNames: [] }) }]);
  return decodeGetAttributesResponse(r.batchItems[0]?.payload).attributes;
}

const value = (attrs: readonly Attribute[], name: string) => attrs.find((a) => a.name === name)?.value;
const link = (attrs: readonly Attribute[]) =>
  attrs.filter((a) => a.name === AttributeName.Link).map((a) => {
    const f = new Fields(a.value);
    return [f.required(Tag.LinkType, 'Enumeration'), f.required(Tag.LinkedObjectIdentifier, 'TextString')];
  });

function keyBytes(item: Awaited<ReturnType<typeof getKey>>): { format: number; bytes: Buffer; algorithm?: number; length?: number } {
  const c = decodeGetObjectResponse(item?.payload).content;
  const block = c.objectType === ObjectType.PrivateKey ? c.privateKey.keyBlock : c.objectType === ObjectType.PublicKey ? c.publicKey.keyBlock : undefined;
  if (block === undefined || !('bytes' in block.material)) throw new Error('not an encoded key');
  return { format: block.formatType, bytes: block.material.bytes, ...(block.algorithm === undefined ? {} : { algorithm: block.algorithm }), ...(block.length === undefined ? {} : { length: block.length }) };
}

describe('Create Key Pair (KMIP 1.4 §4.2)', () => {
  it.each([
    ['RSA 2048', Alg.RSA, 2048],
    ['EC P-256', Alg.EC, 256],
    ['ECDSA P-384', Alg.ECDSA, 384],
    ['EC P-521', Alg.EC, 521],
  ])('%s: two linked, sealed, owned objects; the keys sign and verify', async (_label, alg, bits) => {
    const r = await createPair(
      [attr.enumeration(AttributeName.CryptographicAlgorithm, alg), attr.int(AttributeName.CryptographicLength, bits)],
      [attr.name(`priv-${alg}-${bits}`), attr.int(AttributeName.CryptographicUsageMask, Usage.Sign)],
      [attr.name(`pub-${alg}-${bits}`), attr.int(AttributeName.CryptographicUsageMask, Usage.Verify | Usage.Encrypt)],
    );
    const privAttrs = await attributes(r.privateKeyUniqueIdentifier);
    const pubAttrs = await attributes(r.publicKeyUniqueIdentifier);
    expect(value(privAttrs, AttributeName.ObjectType)?.value).toBe(ObjectType.PrivateKey);
    expect(value(pubAttrs, AttributeName.ObjectType)?.value).toBe(ObjectType.PublicKey);
    expect(link(privAttrs)).toEqual([[LinkType.PublicKeyLink, r.publicKeyUniqueIdentifier]]);
    expect(link(pubAttrs)).toEqual([[LinkType.PrivateKeyLink, r.privateKeyUniqueIdentifier]]);
    expect(value(privAttrs, AttributeName.CryptographicUsageMask)?.value).toBe(Usage.Sign);
    expect(value(pubAttrs, AttributeName.CryptographicUsageMask)?.value).toBe(Usage.Verify | Usage.Encrypt);
    for (const attrs of [privAttrs, pubAttrs]) {
      expect(value(attrs, AttributeName.CryptographicAlgorithm)?.value).toBe(alg);
      expect(value(attrs, AttributeName.CryptographicLength)?.value).toBe(bits);
    }

    const priv = keyBytes(await getKey(r.privateKeyUniqueIdentifier));
    const pub = keyBytes(await getKey(r.publicKeyUniqueIdentifier));
    expect(priv).toMatchObject({ format: F.PKCS8, algorithm: alg, length: bits });
    expect(pub).toMatchObject({ format: alg === Alg.RSA ? F.PKCS1 : F.X509, algorithm: alg, length: bits });
    const privateKey = createPrivateKey({ key: priv.bytes, format: 'der', type: 'pkcs8' });
    const publicKey = createPublicKey({ key: pub.bytes, format: 'der', type: alg === Alg.RSA ? 'pkcs1' : 'spki' });
    // Digest (§3.17): SHA-256 of the key in PKCS#1 (RSA) or PKCS#8 / X.509 (EC), with that format.
    const digestOf = (attrs: readonly Attribute[]) => {
      const d = new Fields(attrs.find((a) => a.name === AttributeName.Digest)?.value ?? { tag: 0, type: 'Structure', value: [] });
      return [d.required(Tag.HashingAlgorithm, 'Enumeration'), d.required(Tag.DigestValue, 'ByteString').toString('hex'), d.required(Tag.KeyFormatType, 'Enumeration')];
    };
    const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const rsaKey = alg === Alg.RSA;
    expect(digestOf(privAttrs)).toEqual([HashingAlgorithm.SHA256, sha256(privateKey.export({ format: 'der', type: rsaKey ? 'pkcs1' : 'pkcs8' })), rsaKey ? F.PKCS1 : F.PKCS8]);
    expect(digestOf(pubAttrs)).toEqual([HashingAlgorithm.SHA256, sha256(publicKey.export({ format: 'der', type: rsaKey ? 'pkcs1' : 'spki' })), rsaKey ? F.PKCS1 : F.X509]);
    const msg = Buffer.from('vmcrypt key pair');
    expect(verify('sha256', msg, publicKey, sign('sha256', msg, privateKey))).toBe(true);

    // Sealed: the store holds no clear private key; owned: another identity is denied.
    const rec = await h.store.get(r.privateKeyUniqueIdentifier);
    expect(rec?.sealedKey?.includes(priv.bytes.subarray(-32))).toBe(false);
    const other = await h.send('mallory', [{ operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: r.privateKeyUniqueIdentifier }) }]);
    expect(other.batchItems[0]?.resultReason).toBe(ResultReason.PermissionDenied);
    // Located by type and name, like any object.
    const located = await h.send('alice', [{ operation: Operation.Locate, payload: encodeLocateRequest({ attributes: [attr.enumeration(AttributeName.ObjectType, ObjectType.PublicKey), attr.name(`pub-${alg}-${bits}`)] }) }]);
    expect(decodeLocateResponse(located.batchItems[0]?.payload).uniqueIdentifiers).toEqual([r.publicKeyUniqueIdentifier]);
    // Audited: the private key's id.
    expect(h.audit.entries.some((l) => l.operation === 'CreateKeyPair' && l.objectId === r.privateKeyUniqueIdentifier)).toBe(true);
  });

  it('sets the ID Placeholder to the private key (a following Get without id gets it)', async () => {
    const common = [attr.enumeration(AttributeName.CryptographicAlgorithm, Alg.EC), attr.int(AttributeName.CryptographicLength, 256)];
    const r = await h.send('alice', [pairItem(common), { operation: Operation.Get, payload: encodeGetRequest({}) }]);
    const ids = decodeCreateKeyPairResponse(r.batchItems[0]?.payload);
    expect(decodeGetObjectResponse(r.batchItems[1]?.payload).uniqueIdentifier).toBe(ids.privateKeyUniqueIdentifier);
  });

  it('serves concurrent requests (generations queue for one of two slots)', async () => {
    const common = [attr.enumeration(AttributeName.CryptographicAlgorithm, Alg.EC), attr.int(AttributeName.CryptographicLength, 256)];
    const all = await Promise.all(Array.from({ length: 6 }, () => h.send('alice', [pairItem(common)])));
    expect(all.map((r) => r.batchItems[0]?.resultStatus)).toEqual(Array(6).fill(ResultStatus.Success));
  });

  it('defaults the usage masks to Sign (private) and Verify (public)', async () => {
    const r = await createPair([attr.enumeration(AttributeName.CryptographicAlgorithm, Alg.EC), attr.int(AttributeName.CryptographicLength, 256)]);
    expect(value(await attributes(r.privateKeyUniqueIdentifier), AttributeName.CryptographicUsageMask)?.value).toBe(Usage.Sign);
    expect(value(await attributes(r.publicKeyUniqueIdentifier), AttributeName.CryptographicUsageMask)?.value).toBe(Usage.Verify);
  });

  it('destroys the private key when the public key cannot be stored (no half pair with key material)', async () => {
    const store = h.store as { insert: typeof h.store.insert };
    const insert = store.insert.bind(h.store);
    let inserts = 0;
    store.insert = async (r) => {
      if (++inserts === 2) throw new Error('disk full');
      return insert(r);
    };
    let r;
    try {
      r = await h.send('alice', [pairItem([attr.enumeration(AttributeName.CryptographicAlgorithm, Alg.EC), attr.int(AttributeName.CryptographicLength, 256)])]);
    } finally {
      store.insert = insert;
    }
    expect(r.batchItems[0]?.resultReason).toBe(ResultReason.GeneralFailure);
    const last = (await h.store.list()).at(-1);
    expect(last?.sealedKey).toBeNull();
    expect(value(await attributes(last?.id ?? ''), AttributeName.State)?.value).toBe(State.Destroyed);
  });

  it.each([
    ['no algorithm', [attr.int(AttributeName.CryptographicLength, 2048)], [], []],
    ['no length', [attr.enumeration(AttributeName.CryptographicAlgorithm, Alg.RSA)], [], []],
    ['RSA 1024', [attr.enumeration(AttributeName.CryptographicAlgorithm, Alg.RSA), attr.int(AttributeName.CryptographicLength, 1024)], [], []],
    ['EC 255', [attr.enumeration(AttributeName.CryptographicAlgorithm, Alg.EC), attr.int(AttributeName.CryptographicLength, 255)], [], []],
    ['AES', [attr.enumeration(AttributeName.CryptographicAlgorithm, Alg.AES), attr.int(AttributeName.CryptographicLength, 256)], [], []],
    ['lengths that differ', [attr.enumeration(AttributeName.CryptographicAlgorithm, Alg.EC)], [attr.int(AttributeName.CryptographicLength, 256)], [attr.int(AttributeName.CryptographicLength, 384)]],
  ])('refuses %s (Invalid Field), storing nothing', async (_label, common, priv, pub) => {
    const before = (await h.store.list()).length;
    const r = await h.send('alice', [pairItem(common, priv, pub)]);
    expect(r.batchItems[0]?.resultStatus).toBe(ResultStatus.OperationFailed);
    expect(r.batchItems[0]?.resultReason).toBe(ResultReason.InvalidField);
    expect((await h.store.list()).length).toBe(before);
  });
});
