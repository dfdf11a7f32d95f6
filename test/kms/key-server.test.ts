import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { attr, AttributeName } from '../../src/kmip/attributes.js';
import { CryptographicAlgorithm, KeyFormatType, ObjectType, QueryFunction, ResultReason, ResultStatus, RevocationReasonCode, SecretDataType, State, BatchErrorContinuationOption } from '../../src/kmip/enums.js';
import { Operation } from '../../src/kmip/operation-codes.js';
import { encodeCreateRequest, decodeCreateResponse } from '../../src/kmip/payloads/create.js';
import { encodeGetRequest, decodeGetResponse } from '../../src/kmip/payloads/get.js';
import { encodeGetAttributesRequest, decodeGetAttributesResponse } from '../../src/kmip/payloads/get-attributes.js';
import { encodeGetAttributeListRequest, decodeGetAttributeListResponse } from '../../src/kmip/payloads/get-attribute-list.js';
import { encodeAddAttributeRequest } from '../../src/kmip/payloads/add-attribute.js';
import { encodeModifyAttributeRequest } from '../../src/kmip/payloads/modify-attribute.js';
import { encodeDeleteAttributeRequest } from '../../src/kmip/payloads/delete-attribute.js';
import { encodeLocateRequest, decodeLocateResponse } from '../../src/kmip/payloads/locate.js';
import { encodeActivateRequest } from '../../src/kmip/payloads/activate.js';
import { encodeRevokeRequest } from '../../src/kmip/payloads/revoke.js';
import { encodeDestroyRequest } from '../../src/kmip/payloads/destroy.js';
import { encodeRegisterRequest, encodeRegisterObjectRequest, decodeRegisterResponse } from '../../src/kmip/payloads/register.js';
import { decodeGetObjectResponse } from '../../src/kmip/payloads/get.js';
import type { ObjectContent } from '../../src/kmip/objects/object-content.js';
import { encodeQueryRequest, decodeQueryResponse } from '../../src/kmip/payloads/query.js';
import { encodeDiscoverVersionsRequest, decodeDiscoverVersionsResponse } from '../../src/kmip/payloads/discover-versions.js';
import { Tag } from '../../src/kmip/tags.js';
import { decodeTtlv, encodeTtlv, ttlv } from '../../src/kmip/ttlv/index.js';
import { encodeRequestMessage } from '../../src/kmip/message/request.js';
import { decodeResponseMessage } from '../../src/kmip/message/response.js';
import { openHarness } from './harness.js';

type H = Awaited<ReturnType<typeof openHarness>>;
let h: H;
beforeEach(async () => {
  h = await openHarness();
});
afterEach(async () => {
  await h.close();
});

const createItem = (bits: number, extra: ReturnType<typeof attr.text>[] = []) => ({
  operation: Operation.Create,
  payload: encodeCreateRequest({
    objectType: ObjectType.SymmetricKey,
    templateAttribute: {
      templateNames: [],
      attributes: [
        attr.enumeration(AttributeName.CryptographicAlgorithm, CryptographicAlgorithm.AES),
        attr.int(AttributeName.CryptographicLength, bits),
        attr.int(AttributeName.CryptographicUsageMask, 12),
        ...extra,
      ],
    },
  }),
});

async function create(identity: string, bits = 256, extra: ReturnType<typeof attr.text>[] = []): Promise<string> {
  const r = await h.send(identity, [createItem(bits, extra)]);
  expect(r.batchItems[0]?.resultStatus).toBe(ResultStatus.Success);
  return decodeCreateResponse(r.batchItems[0]?.payload).uniqueIdentifier;
}

async function stateOf(identity: string, id: string): Promise<number | undefined> {
  const r = await h.send(identity, [{ operation: Operation.GetAttributes, payload: encodeGetAttributesRequest({ uniqueIdentifier: id, attributeNames: ['State'] }) }]);
  const v = decodeGetAttributesResponse(r.batchItems[0]?.payload).attributes[0]?.value;
  return v?.type === 'Enumeration' ? v.value : undefined;
}

describe('KeyServer operations', () => {
  it.each([128, 192, 256])('creates and gets an AES-%i key in Raw and Transparent formats', async (bits) => {
    const id = await create('alice', bits);
    const raw = await h.send('alice', [{ operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: id }) }]);
    const k1 = decodeGetResponse(raw.batchItems[0]?.payload).symmetricKey;
    expect(k1.formatType).toBe(KeyFormatType.Raw);
    expect(k1.material.length).toBe(bits / 8);
    const tr = await h.send('alice', [{ operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: id, keyFormatType: KeyFormatType.TransparentSymmetricKey }) }]);
    const k2 = decodeGetResponse(tr.batchItems[0]?.payload).symmetricKey;
    expect(k2.formatType).toBe(KeyFormatType.TransparentSymmetricKey);
    expect(k2.material.equals(k1.material)).toBe(true);
  });

  it('refuses bad lengths and algorithms with Invalid Field', async () => {
    const r = await h.send('alice', [createItem(100)]);
    expect(r.batchItems[0]?.resultReason).toBe(ResultReason.InvalidField);
  });

  it('keeps Name and custom x- attributes, lists and locates by them', async () => {
    const id = await create('alice', 256, [attr.name('vm-kek-1'), attr.text('x-vmcrypt-vm', 'vm1')]);
    await create('alice', 128, [attr.name('other')]);
    const list = await h.send('alice', [{ operation: Operation.GetAttributeList, payload: encodeGetAttributeListRequest({ uniqueIdentifier: id }) }]);
    const names = decodeGetAttributeListResponse(list.batchItems[0]?.payload).attributeNames;
    expect(names).toEqual(expect.arrayContaining(['Name', 'x-vmcrypt-vm', 'State', 'Initial Date', 'Cryptographic Usage Mask']));
    const byName = await h.send('alice', [{ operation: Operation.Locate, payload: encodeLocateRequest({ attributes: [attr.name('vm-kek-1')] }) }]);
    expect(decodeLocateResponse(byName.batchItems[0]?.payload).uniqueIdentifiers).toEqual([id]);
    const byCustom = await h.send('alice', [{ operation: Operation.Locate, payload: encodeLocateRequest({ attributes: [attr.text('x-vmcrypt-vm', 'vm1')] }) }]);
    expect(decodeLocateResponse(byCustom.batchItems[0]?.payload).uniqueIdentifiers).toEqual([id]);
    const all = await h.send('alice', [{ operation: Operation.Locate, payload: encodeLocateRequest({ attributes: [attr.enumeration('Object Type', ObjectType.SymmetricKey), attr.enumeration('Cryptographic Algorithm', CryptographicAlgorithm.AES)] }) }]);
    expect(decodeLocateResponse(all.batchItems[0]?.payload).uniqueIdentifiers).toHaveLength(2);
    const max = await h.send('alice', [{ operation: Operation.Locate, payload: encodeLocateRequest({ maximumItems: 1, attributes: [attr.enumeration('State', State.PreActive)] }) }], { version: { major: 1, minor: 4 } });
    const located = decodeLocateResponse(max.batchItems[0]?.payload);
    expect(located.uniqueIdentifiers).toHaveLength(1);
    expect(located.locatedItems).toBe(2);
  });

  it('adds, modifies and deletes attributes; server attributes are read-only', async () => {
    const id = await create('alice');
    const add = await h.send('alice', [{ operation: Operation.AddAttribute, payload: encodeAddAttributeRequest({ uniqueIdentifier: id, attribute: attr.text('x-owner', 'team-a') }) }]);
    expect(add.batchItems[0]?.resultStatus).toBe(ResultStatus.Success);
    const mod = await h.send('alice', [{ operation: Operation.ModifyAttribute, payload: encodeModifyAttributeRequest({ uniqueIdentifier: id, attribute: attr.text('x-owner', 'team-b') }) }]);
    expect(mod.batchItems[0]?.resultStatus).toBe(ResultStatus.Success);
    const got = await h.send('alice', [{ operation: Operation.GetAttributes, payload: encodeGetAttributesRequest({ uniqueIdentifier: id, attributeNames: ['x-owner'] }) }]);
    const v = decodeGetAttributesResponse(got.batchItems[0]?.payload).attributes[0]?.value;
    expect(v).toEqual({ tag: Tag.AttributeValue, type: 'TextString', value: 'team-b' });
    const del = await h.send('alice', [{ operation: Operation.DeleteAttribute, payload: encodeDeleteAttributeRequest({ uniqueIdentifier: id, attributeName: 'x-owner' }) }]);
    expect(del.batchItems[0]?.resultStatus).toBe(ResultStatus.Success);
    const again = await h.send('alice', [{ operation: Operation.DeleteAttribute, payload: encodeDeleteAttributeRequest({ uniqueIdentifier: id, attributeName: 'x-owner' }) }]);
    expect(again.batchItems[0]?.resultReason).toBe(ResultReason.ItemNotFound);
    const ro = await h.send('alice', [{ operation: Operation.ModifyAttribute, payload: encodeModifyAttributeRequest({ uniqueIdentifier: id, attribute: attr.enumeration('State', State.Active) }) }]);
    expect(ro.batchItems[0]?.resultReason).toBe(ResultReason.PermissionDenied);
  });

  it('follows the lifecycle: activate, no destroy while active, revoke, destroy', async () => {
    const id = await create('alice');
    expect(await stateOf('alice', id)).toBe(State.PreActive);
    const act = await h.send('alice', [{ operation: Operation.Activate, payload: encodeActivateRequest({ uniqueIdentifier: id }) }]);
    expect(act.batchItems[0]?.resultStatus).toBe(ResultStatus.Success);
    expect(await stateOf('alice', id)).toBe(State.Active);
    const again = await h.send('alice', [{ operation: Operation.Activate, payload: encodeActivateRequest({ uniqueIdentifier: id }) }]);
    expect(again.batchItems[0]?.resultReason).toBe(ResultReason.PermissionDenied);
    const d1 = await h.send('alice', [{ operation: Operation.Destroy, payload: encodeDestroyRequest({ uniqueIdentifier: id }) }]);
    expect(d1.batchItems[0]?.resultReason).toBe(ResultReason.PermissionDenied);
    const rv = await h.send('alice', [{ operation: Operation.Revoke, payload: encodeRevokeRequest({ uniqueIdentifier: id, revocationReason: { code: RevocationReasonCode.CessationOfOperation, message: 'retired' } }) }]);
    expect(rv.batchItems[0]?.resultStatus).toBe(ResultStatus.Success);
    expect(await stateOf('alice', id)).toBe(State.Deactivated);
    const d2 = await h.send('alice', [{ operation: Operation.Destroy, payload: encodeDestroyRequest({ uniqueIdentifier: id }) }]);
    expect(d2.batchItems[0]?.resultStatus).toBe(ResultStatus.Success);
    expect(await stateOf('alice', id)).toBe(State.Destroyed);
    const get = await h.send('alice', [{ operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: id }) }]);
    // KMIP 1.4 §4.21: the content of a destroyed object is gone (Item Not Found); its metadata stays.
    expect(get.batchItems[0]?.resultReason).toBe(ResultReason.ItemNotFound);
    const names = await h.send('alice', [{ operation: Operation.GetAttributes, payload: encodeGetAttributesRequest({ uniqueIdentifier: id, attributeNames: ['Activation Date', 'Deactivation Date', 'Destroy Date', 'Revocation Reason'] }) }]);
    expect(decodeGetAttributesResponse(names.batchItems[0]?.payload).attributes.map((a) => a.name)).toEqual(
      expect.arrayContaining(['Activation Date', 'Deactivation Date', 'Destroy Date', 'Revocation Reason']),
    );
    // Locate (KMIP 1.4 §4.9) finds a destroyed object only when the filter asks for its State.
    const plain = await h.send('alice', [{ operation: Operation.Locate, payload: encodeLocateRequest({ attributes: [] }) }]);
    expect(decodeLocateResponse(plain.batchItems[0]?.payload).uniqueIdentifiers).not.toContain(id);
    const destroyed = await h.send('alice', [{ operation: Operation.Locate, payload: encodeLocateRequest({ attributes: [attr.enumeration('State', State.Destroyed)] }) }]);
    expect(decodeLocateResponse(destroyed.batchItems[0]?.payload).uniqueIdentifiers).toEqual([id]);
  });

  it('denies other identities and reports unknown ids', async () => {
    const id = await create('alice');
    const r = await h.send('mallory', [{ operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: id }) }]);
    expect(r.batchItems[0]?.resultReason).toBe(ResultReason.PermissionDenied);
    const loc = await h.send('mallory', [{ operation: Operation.Locate, payload: encodeLocateRequest({ attributes: [] }) }]);
    expect(decodeLocateResponse(loc.batchItems[0]?.payload).uniqueIdentifiers).toEqual([]);
    const nf = await h.send('alice', [{ operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: 'nope' }) }]);
    expect(nf.batchItems[0]?.resultReason).toBe(ResultReason.ItemNotFound);
  });

  it('denies every read and change of another identity\'s object, by id or by ID Placeholder, and changes nothing', async () => {
    const id = await create('alice', 256, [attr.text('x-team', 'a')]);
    const before = await h.send('alice', [{ operation: Operation.GetAttributes, payload: encodeGetAttributesRequest({ uniqueIdentifier: id, attributeNames: [] }) }]);
    const ops = [
      { operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: id }) },
      { operation: Operation.GetAttributes, payload: encodeGetAttributesRequest({ uniqueIdentifier: id, attributeNames: [] }) },
      { operation: Operation.GetAttributeList, payload: encodeGetAttributeListRequest({ uniqueIdentifier: id }) },
      { operation: Operation.AddAttribute, payload: encodeAddAttributeRequest({ uniqueIdentifier: id, attribute: attr.text('x-vmcrypt-grant', 'mallory') }) },
      { operation: Operation.ModifyAttribute, payload: encodeModifyAttributeRequest({ uniqueIdentifier: id, attribute: attr.text('x-team', 'm') }) },
      { operation: Operation.DeleteAttribute, payload: encodeDeleteAttributeRequest({ uniqueIdentifier: id, attributeName: 'x-team' }) },
      { operation: Operation.Activate, payload: encodeActivateRequest({ uniqueIdentifier: id }) },
      { operation: Operation.Revoke, payload: encodeRevokeRequest({ uniqueIdentifier: id, revocationReason: { code: RevocationReasonCode.KeyCompromise } }) },
      { operation: Operation.Destroy, payload: encodeDestroyRequest({ uniqueIdentifier: id }) },
    ];
    for (const op of ops) {
      const r = await h.send('mallory', [op]);
      expect(r.batchItems[0]?.resultReason, String(op.operation)).toBe(ResultReason.PermissionDenied);
    }
    // Locate never yields alice's object to mallory, so the ID Placeholder cannot point at it either.
    const viaPlaceholder = await h.send(
      'mallory',
      [
        { operation: Operation.Locate, payload: encodeLocateRequest({ attributes: [attr.text('x-team', 'a')] }) },
        { operation: Operation.Get, payload: encodeGetRequest({}) },
      ],
      { batchErrorContinuationOption: BatchErrorContinuationOption.Continue },
    );
    expect(decodeLocateResponse(viaPlaceholder.batchItems[0]?.payload).uniqueIdentifiers).toEqual([]);
    expect(viaPlaceholder.batchItems[1]?.resultStatus).toBe(ResultStatus.OperationFailed);
    const after = await h.send('alice', [{ operation: Operation.GetAttributes, payload: encodeGetAttributesRequest({ uniqueIdentifier: id, attributeNames: [] }) }]);
    expect(decodeGetAttributesResponse(after.batchItems[0]?.payload).attributes).toEqual(decodeGetAttributesResponse(before.batchItems[0]?.payload).attributes);
  });

  it('Locate lists the caller\'s own objects before objects others granted it (a granted key cannot shadow an own one)', async () => {
    const planted = await create('mallory', 256, [attr.name('vm-kek'), attr.text('x-vmcrypt-grant', 'bob')]);
    const own = await create('bob', 256, [attr.name('vm-kek')]);
    const loc = (max?: number) =>
      h.send('bob', [{ operation: Operation.Locate, payload: encodeLocateRequest({ attributes: [attr.name('vm-kek')], ...(max === undefined ? {} : { maximumItems: max }) }) }]);
    expect(decodeLocateResponse((await loc())?.batchItems[0]?.payload).uniqueIdentifiers).toEqual([own, planted]);
    expect(decodeLocateResponse((await loc(1))?.batchItems[0]?.payload).uniqueIdentifiers).toEqual([own]);
  });

  it('bounds the attributes one object may carry', async () => {
    const big = attr.text('x-blob', 'a'.repeat(40 * 1024)); // 80 KiB once hex-encoded in the store
    const r = await h.send('alice', [createItem(256, [big])]);
    expect(r.batchItems[0]?.resultReason).toBe(ResultReason.InvalidField);
    const id = await create('alice');
    const piece = attr.text('x-blob', 'a'.repeat(12 * 1024));
    const results: number[] = [];
    for (let i = 0; i < 4; i++) {
      const a = await h.send('alice', [{ operation: Operation.AddAttribute, payload: encodeAddAttributeRequest({ uniqueIdentifier: id, attribute: piece }) }]);
      results.push(a.batchItems[0]?.resultStatus === ResultStatus.Success ? 0 : (a.batchItems[0]?.resultReason ?? -1));
    }
    expect(results).toEqual([0, 0, ResultReason.InvalidField, ResultReason.InvalidField]);
    expect(await stateOf('alice', id)).toBe(State.PreActive); // the object itself is intact
  });

  it('keeps byte-string attribute values intact although the request tree is wiped after handling', async () => {
    const value = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
    const id = await create('alice', 256, [{ name: 'x-bin', value: ttlv.bytes(Tag.AttributeValue, value) }]);
    await h.send('alice', [{ operation: Operation.AddAttribute, payload: encodeAddAttributeRequest({ uniqueIdentifier: id, attribute: { name: 'x-bin', value: ttlv.bytes(Tag.AttributeValue, value) } }) }]);
    const got = await h.send('alice', [{ operation: Operation.GetAttributes, payload: encodeGetAttributesRequest({ uniqueIdentifier: id, attributeNames: ['x-bin'] }) }]);
    const values = decodeGetAttributesResponse(got.batchItems[0]?.payload).attributes.map((a) => (a.value.type === 'ByteString' ? a.value.value.toString('hex') : ''));
    expect(values).toEqual([value.toString('hex'), value.toString('hex')]);
  });

  it('keeps audit lines short when a result message quotes a huge client string', async () => {
    const id = await create('alice');
    const name = `z${'q'.repeat(200_000)}`;
    const r = await h.send('alice', [{ operation: Operation.AddAttribute, payload: encodeAddAttributeRequest({ uniqueIdentifier: id, attribute: attr.text(name, 'v') }) }]);
    expect(r.batchItems[0]?.resultReason).toBe(ResultReason.InvalidField);
    const last = h.audit.entries.at(-1);
    expect(last?.result).toBe('failure');
    expect(last?.message?.length).toBeLessThan(1024);
    expect(last?.message).toContain('(200');
  });

  it('answers unknown operations with Operation Not Supported', async () => {
    const r = await h.send('alice', [{ operation: Operation.Certify, payload: ttlv.struct(Tag.RequestPayload, []) }]);
    expect(r.batchItems[0]?.resultStatus).toBe(ResultStatus.OperationFailed);
    expect(r.batchItems[0]?.resultReason).toBe(ResultReason.OperationNotSupported);
  });

  it('runs batches with the ID placeholder and Continue/Stop options', async () => {
    const r = await h.send('alice', [
      { operation: Operation.Create, uniqueBatchItemId: Buffer.from([1]), payload: createItem(256).payload },
      { operation: Operation.Activate, uniqueBatchItemId: Buffer.from([2]), payload: encodeActivateRequest({}) },
      { operation: Operation.Get, uniqueBatchItemId: Buffer.from([3]), payload: encodeGetRequest({}) },
    ]);
    expect(r.batchItems.map((b) => b.resultStatus)).toEqual([0, 0, 0]);
    expect(r.batchItems.map((b) => b.uniqueBatchItemId?.[0])).toEqual([1, 2, 3]);
    const failing = [
      { operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: 'missing' }) },
      { operation: Operation.Query, payload: encodeQueryRequest({ queryFunctions: [1] }) },
    ];
    const stop = await h.send('alice', failing);
    expect(stop.batchItems).toHaveLength(1);
    const cont = await h.send('alice', failing, { batchErrorContinuationOption: BatchErrorContinuationOption.Continue });
    expect(cont.batchItems.map((b) => b.resultStatus)).toEqual([1, 0]);
  });

  it('registers a key and returns the same bytes', async () => {
    const material = Buffer.alloc(32, 7);
    const r = await h.send('alice', [
      {
        operation: Operation.Register,
        payload: encodeRegisterRequest({
          objectType: ObjectType.SymmetricKey,
          templateAttribute: { templateNames: [], attributes: [attr.int('Cryptographic Usage Mask', 12)] },
          symmetricKey: { formatType: KeyFormatType.Raw, material: Buffer.from(material), algorithm: CryptographicAlgorithm.AES, length: 256 },
        }),
      },
    ]);
    const id = decodeRegisterResponse(r.batchItems[0]?.payload).uniqueIdentifier;
    const g = await h.send('alice', [{ operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: id }) }]);
    expect(decodeGetResponse(g.batchItems[0]?.payload).symmetricKey.material.equals(material)).toBe(true);
  });

  it('answers Query and DiscoverVersions in the client version', async () => {
    const q = await h.send('alice', [{ operation: Operation.Query, payload: encodeQueryRequest({ queryFunctions: [1, 2] }) }], { version: { major: 1, minor: 1 } });
    expect(q.header.protocolVersion).toEqual({ major: 1, minor: 1 });
    const body = decodeQueryResponse(q.batchItems[0]?.payload);
    expect(body.operations).toContain(Operation.Create);
    expect(body.objectTypes).toEqual([ObjectType.Certificate, ObjectType.SymmetricKey, ObjectType.PublicKey, ObjectType.PrivateKey, ObjectType.SplitKey, ObjectType.Template, ObjectType.SecretData, ObjectType.OpaqueObject]);
    const d = await h.send('alice', [{ operation: Operation.DiscoverVersions, payload: encodeDiscoverVersionsRequest({ versions: [{ major: 2, minor: 0 }, { major: 1, minor: 3 }, { major: 1, minor: 0 }] }) }]);
    expect(decodeDiscoverVersionsResponse(d.batchItems[0]?.payload).versions).toEqual([{ major: 1, minor: 3 }, { major: 1, minor: 0 }]);
    const bad = await h.send('alice', [{ operation: Operation.Query, payload: encodeQueryRequest({ queryFunctions: [1] }) }], { version: { major: 3, minor: 0 } });
    expect(bad.batchItems[0]?.resultReason).toBe(ResultReason.InvalidMessage);
  });

  it('audits every operation without key bytes', async () => {
    const id = await create('alice');
    const g = await h.send('alice', [{ operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: id }) }]);
    const key = decodeGetResponse(g.batchItems[0]?.payload).symmetricKey.material;
    expect(h.audit.entries.map((e) => [e.identity, e.operation, e.objectId, e.result])).toEqual([
      ['alice', 'Create', id, 'success'],
      ['alice', 'Get', id, 'success'],
    ]);
    const text = JSON.stringify(h.audit.entries);
    expect(text).not.toContain(key.toString('hex'));
    expect(text).not.toContain(key.toString('base64'));
  });

  it('sets Initial Date and Last Change Date', async () => {
    const id = await create('alice');
    const r = await h.send('alice', [{ operation: Operation.GetAttributes, payload: encodeGetAttributesRequest({ uniqueIdentifier: id, attributeNames: [] }) }]);
    const names = decodeGetAttributesResponse(r.batchItems[0]?.payload).attributes.map((a) => a.name);
    expect(names).toEqual(expect.arrayContaining(['Unique Identifier', 'Object Type', 'Initial Date', 'Last Change Date', 'Cryptographic Length']));
  });

  it('retries compare-and-set conflicts: concurrent attribute adds on one object all land', async () => {
    const id = await create('alice');
    const adds = Array.from({ length: 20 }, (_, i) =>
      h.send('alice', [{ operation: Operation.AddAttribute, payload: encodeAddAttributeRequest({ uniqueIdentifier: id, attribute: attr.text('x-tag', `t${i}`) }) }]),
    );
    const results = await Promise.all(adds);
    expect(results.map((r) => r.batchItems[0]?.resultStatus)).toEqual(Array(20).fill(ResultStatus.Success));
    const got = await h.send('alice', [{ operation: Operation.GetAttributes, payload: encodeGetAttributesRequest({ uniqueIdentifier: id, attributeNames: ['x-tag'] }) }]);
    const attrs = decodeGetAttributesResponse(got.batchItems[0]?.payload).attributes;
    expect(attrs).toHaveLength(20);
    expect(attrs.map((a) => a.index ?? 0).sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
  });

  it('answers Response Too Large when the response exceeds Maximum Response Size', async () => {
    const id = await create('alice');
    const req = encodeTtlv(
      encodeRequestMessage({
        header: { protocolVersion: { major: 1, minor: 1 }, maximumResponseSize: 64, batchCount: 1 },
        batchItems: [{ operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: id }) }],
      }),
    );
    const r = decodeResponseMessage(decodeTtlv(await h.server.handleMessage('alice', req)));
    expect(r.batchItems[0]?.resultReason).toBe(ResultReason.ResponseTooLarge);
  });

  it('lets an owner grant read access with x-vmcrypt-grant; changes stay with the owner', async () => {
    const id = await create('alice', 256, [attr.name('shared-kek')]);
    const get = () => h.send('bob', [{ operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: id }) }]);
    expect((await get()).batchItems[0]?.resultReason).toBe(ResultReason.PermissionDenied);
    await h.send('alice', [{ operation: Operation.AddAttribute, payload: encodeAddAttributeRequest({ uniqueIdentifier: id, attribute: attr.text('x-vmcrypt-grant', 'bob') }) }]);
    expect((await get()).batchItems[0]?.resultStatus).toBe(ResultStatus.Success);
    const loc = await h.send('bob', [{ operation: Operation.Locate, payload: encodeLocateRequest({ attributes: [attr.name('shared-kek')] }) }]);
    expect(decodeLocateResponse(loc.batchItems[0]?.payload).uniqueIdentifiers).toEqual([id]);
    const act = await h.send('bob', [{ operation: Operation.Activate, payload: encodeActivateRequest({ uniqueIdentifier: id }) }]);
    expect(act.batchItems[0]?.resultReason).toBe(ResultReason.PermissionDenied);
    const add = await h.send('bob', [{ operation: Operation.AddAttribute, payload: encodeAddAttributeRequest({ uniqueIdentifier: id, attribute: attr.text('x-vmcrypt-grant', 'carol') }) }]);
    expect(add.batchItems[0]?.resultReason).toBe(ResultReason.PermissionDenied);
    const carol = await h.send('carol', [{ operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: id }) }]);
    expect(carol.batchItems[0]?.resultReason).toBe(ResultReason.PermissionDenied);
  });

  it('answers Query with exactly the operations it serves and the object types it stores (KMIP 1.4 §4.25)', async () => {
    const q = await h.send('alice', [{ operation: Operation.Query, payload: encodeQueryRequest({ queryFunctions: [QueryFunction.QueryOperations, QueryFunction.QueryObjects] }) }]);
    const body = decodeQueryResponse(q.batchItems[0]?.payload);
    const served = [
      Operation.Create, Operation.CreateKeyPair, Operation.Register, Operation.Locate, Operation.Get, Operation.GetAttributes, Operation.GetAttributeList,
      Operation.AddAttribute, Operation.ModifyAttribute, Operation.DeleteAttribute, Operation.Activate, Operation.Revoke,
      Operation.Destroy, Operation.Query, Operation.DiscoverVersions,
      Operation.Encrypt, Operation.Decrypt, Operation.Sign, Operation.SignatureVerify, Operation.MAC, Operation.MACVerify, Operation.DeriveKey, Operation.Hash, Operation.RNGRetrieve, Operation.RNGSeed,
    ];
    expect([...body.operations].sort((a, b) => a - b)).toEqual([...served].sort((a, b) => a - b));
    expect(body.objectTypes).toEqual([ObjectType.Certificate, ObjectType.SymmetricKey, ObjectType.PublicKey, ObjectType.PrivateKey, ObjectType.SplitKey, ObjectType.Template, ObjectType.SecretData, ObjectType.OpaqueObject]);
    // Every listed operation is implemented; every other one is refused as not supported.
    for (const op of Object.values(Operation)) {
      const r = await h.send('alice', [{ operation: op, payload: ttlv.struct(Tag.RequestPayload, []) }]);
      const notSupported = r.batchItems[0]?.resultReason === ResultReason.OperationNotSupported;
      expect([op, notSupported]).toEqual([op, !served.includes(op as never)]);
    }
    // Object types beyond the listed ones are refused by Register.
    const cert = await h.send('alice', [{ operation: Operation.Register, payload: ttlv.struct(Tag.RequestPayload, [ttlv.enumeration(Tag.ObjectType, ObjectType.PgpKey), ttlv.struct(Tag.TemplateAttribute, [])]) }]);
    expect(cert.batchItems[0]?.resultReason).toBe(ResultReason.FeatureNotSupported);
  });

  const registerItem = (content: ObjectContent, attributes: ReturnType<typeof attr.text>[] = []) => ({
    operation: Operation.Register,
    payload: encodeRegisterObjectRequest({ templateAttribute: { templateNames: [], attributes }, content }),
  });

  it.each([
    ['secret data (password)', (v: Buffer): ObjectContent => ({ objectType: ObjectType.SecretData, secretData: { secretDataType: SecretDataType.Password, value: v } })],
    ['secret data (seed)', (v: Buffer): ObjectContent => ({ objectType: ObjectType.SecretData, secretData: { secretDataType: SecretDataType.Seed, value: v } })],
    ['an opaque object', (v: Buffer): ObjectContent => ({ objectType: ObjectType.OpaqueObject, opaqueObject: { opaqueDataType: 0x80000000, value: v } })],
  ])('registers, gets, locates and destroys %s: sealed, owned, audited', async (_label, make) => {
    const value = Buffer.from('correct horse battery staple');
    const sent = make(Buffer.from(value));
    const r = await h.send('alice', [registerItem(sent, [attr.name('db-secret'), attr.int(AttributeName.CryptographicUsageMask, 0)])]);
    expect(r.batchItems[0]?.resultStatus).toBe(ResultStatus.Success);
    const id = decodeRegisterResponse(r.batchItems[0]?.payload).uniqueIdentifier;
    // Sealed: the store holds neither the value nor its hex.
    const rec = await h.store.get(id);
    expect(rec?.sealedKey?.includes(value)).toBe(false);
    expect(rec?.attributes).not.toContain(value.toString('hex'));

    const g = await h.send('alice', [{ operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: id }) }]);
    const got = decodeGetObjectResponse(g.batchItems[0]?.payload);
    expect(got.content.objectType).toBe(sent.objectType);
    if (got.content.objectType === ObjectType.SecretData && sent.objectType === ObjectType.SecretData) {
      expect(got.content.secretData).toEqual({ secretDataType: sent.secretData.secretDataType, value });
    } else if (got.content.objectType === ObjectType.OpaqueObject) {
      expect(got.content.opaqueObject).toEqual({ opaqueDataType: 0x80000000, value });
    }
    if (sent.objectType === ObjectType.SecretData) {
      const opaque = await h.send('alice', [{ operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: id, keyFormatType: KeyFormatType.Opaque }) }]);
      expect(opaque.batchItems[0]?.resultStatus).toBe(ResultStatus.Success);
    }
    const raw = await h.send('alice', [{ operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: id, keyFormatType: KeyFormatType.Raw }) }]);
    expect(raw.batchItems[0]?.resultReason).toBe(ResultReason.KeyFormatTypeNotSupported);
    // Owned: another identity is denied.
    const other = await h.send('mallory', [{ operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: id }) }]);
    expect(other.batchItems[0]?.resultReason).toBe(ResultReason.PermissionDenied);

    const attrs = await h.send('alice', [{ operation: Operation.GetAttributes, payload: encodeGetAttributesRequest({ uniqueIdentifier: id, attributeNames: [] }) }]);
    const names = decodeGetAttributesResponse(attrs.batchItems[0]?.payload).attributes.map((a) => a.name);
    expect(names).toEqual(expect.arrayContaining(['Object Type', 'State', 'Name', 'Initial Date']));
    expect(names).not.toContain('Cryptographic Algorithm');

    const byType = await h.send('alice', [{ operation: Operation.Locate, payload: encodeLocateRequest({ attributes: [attr.enumeration('Object Type', sent.objectType)] }) }]);
    expect(decodeLocateResponse(byType.batchItems[0]?.payload).uniqueIdentifiers).toEqual([id]);
    const keys = await h.send('alice', [{ operation: Operation.Locate, payload: encodeLocateRequest({ attributes: [attr.enumeration('Object Type', ObjectType.SymmetricKey)] }) }]);
    expect(decodeLocateResponse(keys.batchItems[0]?.payload).uniqueIdentifiers).toEqual([]);

    const d = await h.send('alice', [{ operation: Operation.Destroy, payload: encodeDestroyRequest({ uniqueIdentifier: id }) }]);
    expect(d.batchItems[0]?.resultStatus).toBe(ResultStatus.Success);
    expect((await h.store.get(id))?.sealedKey).toBeNull();
    const after = await h.send('alice', [{ operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: id }) }]);
    expect(after.batchItems[0]?.resultReason).toBe(ResultReason.ItemNotFound);
    expect(await stateOf('alice', id)).toBe(State.Destroyed);

    expect(h.audit.entries.map((e) => [e.operation, e.objectId, e.result])).toEqual(
      expect.arrayContaining([['Register', id, 'success'], ['Get', id, 'success'], ['Destroy', id, 'success']]),
    );
    const text = JSON.stringify(h.audit.entries);
    expect(text).not.toContain(value.toString('hex'));
    expect(text).not.toContain('correct horse');
  });

  it('refuses secret data in a key format other than Opaque, empty or oversized values, and key attributes on them', async () => {
    const item = (format: number, value: Buffer) => ({
      operation: Operation.Register,
      payload: ttlv.struct(Tag.RequestPayload, [
        ttlv.enumeration(Tag.ObjectType, ObjectType.SecretData),
        ttlv.struct(Tag.TemplateAttribute, []),
        ttlv.struct(Tag.SecretData, [
          ttlv.enumeration(Tag.SecretDataType, SecretDataType.Password),
          ttlv.struct(Tag.KeyBlock, [ttlv.enumeration(Tag.KeyFormatType, format), ttlv.struct(Tag.KeyValue, [ttlv.bytes(Tag.KeyMaterial, value)])]),
        ]),
      ]),
    });
    expect((await h.send('alice', [item(KeyFormatType.Raw, Buffer.from('pw'))])).batchItems[0]?.resultReason).toBe(ResultReason.KeyFormatTypeNotSupported);
    expect((await h.send('alice', [item(KeyFormatType.Opaque, Buffer.alloc(0))])).batchItems[0]?.resultReason).toBe(ResultReason.InvalidField);
    expect((await h.send('alice', [item(KeyFormatType.Opaque, Buffer.alloc(64 * 1024 + 1, 1))])).batchItems[0]?.resultReason).toBe(ResultReason.InvalidField);
    const withAlg = await h.send('alice', [
      registerItem({ objectType: ObjectType.SecretData, secretData: { secretDataType: SecretDataType.Seed, value: Buffer.from('seed') } }, [
        attr.enumeration(AttributeName.CryptographicAlgorithm, CryptographicAlgorithm.AES),
      ]),
    ]);
    expect(withAlg.batchItems[0]?.resultReason).toBe(ResultReason.InvalidField);
    const missing = await h.send('alice', [{ operation: Operation.Register, payload: ttlv.struct(Tag.RequestPayload, [ttlv.enumeration(Tag.ObjectType, ObjectType.OpaqueObject), ttlv.struct(Tag.TemplateAttribute, [])]) }]);
    expect(missing.batchItems[0]?.resultStatus).toBe(ResultStatus.OperationFailed);
  });
});
