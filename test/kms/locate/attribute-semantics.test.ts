import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { attr, AttributeName } from '../../../src/kmip/attributes.js';
import { ResultReason, ResultStatus, RevocationReasonCode, State } from '../../../src/kmip/enums.js';
import { Operation } from '../../../src/kmip/operation-codes.js';
import { encodeDestroyRequest } from '../../../src/kmip/payloads/destroy.js';
import { encodeGetRequest } from '../../../src/kmip/payloads/get.js';
import { decodeGetAttributeListResponse, encodeGetAttributeListRequest } from '../../../src/kmip/payloads/get-attribute-list.js';
import { encodeRevokeRequest } from '../../../src/kmip/payloads/revoke.js';
import { openHarness } from '../harness.js';
import { ops, textInstances, type Harness } from './ops.js';

let h: Harness;
beforeEach(async () => {
  h = await openHarness();
});
afterEach(async () => {
  await h.close();
});

describe('Add / Modify / Delete Attribute with Attribute Index (KMIP 1.4 §2.1.1, §4.14–4.16, §11.15–11.17)', () => {
  it('gives each new instance the next index; indexes never move when others are deleted', async () => {
    const k = ops(h);
    const id = await k.create([attr.text('x-tag', 'a')]);
    expect((await k.add(id, attr.text('x-tag', 'b'))).payload).toBeDefined();
    await k.add(id, attr.text('x-tag', 'c'));
    expect(textInstances(await k.attributes(id, ['x-tag']), 'x-tag')).toEqual([[0, 'a'], [1, 'b'], [2, 'c']]);
    expect((await k.del(id, 'x-tag', 1)).resultStatus).toBe(ResultStatus.Success);
    expect(textInstances(await k.attributes(id, ['x-tag']), 'x-tag')).toEqual([[0, 'a'], [2, 'c']]);
    await k.add(id, attr.text('x-tag', 'd')); // one past the highest in use, not the freed 1
    expect((await k.modify(id, { ...attr.text('x-tag', 'C'), index: 2 })).resultStatus).toBe(ResultStatus.Success);
    expect((await k.del(id, 'x-tag')).resultStatus).toBe(ResultStatus.Success); // index 0 by default
    expect(textInstances(await k.attributes(id, ['x-tag']), 'x-tag')).toEqual([[2, 'C'], [3, 'd']]);
    // Instance 0 is gone: Modify/Delete without an index find nothing.
    expect((await k.modify(id, attr.text('x-tag', 'z'))).resultReason).toBe(ResultReason.ItemNotFound);
    expect((await k.del(id, 'x-tag', 1)).resultReason).toBe(ResultReason.ItemNotFound);
  });

  it('answers the result reasons of §11.15–11.17', async () => {
    const k = ops(h);
    const id = await k.create([attr.text(AttributeName.ContactInformation, 'ops@example.com')]);
    // Add: an Attribute Index in the request, a read-only attribute, a second single instance.
    expect((await k.add(id, { ...attr.text('x-a', 'v'), index: 1 })).resultReason).toBe(ResultReason.InvalidField);
    expect((await k.add(id, attr.enumeration(AttributeName.State, State.Active))).resultReason).toBe(ResultReason.PermissionDenied);
    expect((await k.add(id, attr.date(AttributeName.InitialDate, 5n))).resultReason).toBe(ResultReason.PermissionDenied);
    expect((await k.add(id, attr.text(AttributeName.ContactInformation, 'x'))).resultReason).toBe(ResultReason.IllegalOperation);
    // Modify: an attribute the object does not have is Invalid Field; a server-set one Permission Denied.
    expect((await k.modify(id, attr.text(AttributeName.ObjectGroup, 'g'))).resultReason).toBe(ResultReason.InvalidField);
    expect((await k.modify(id, attr.date(AttributeName.LastChangeDate, 5n))).resultReason).toBe(ResultReason.PermissionDenied);
    // Delete: a REQUIRED / server-set attribute, an absent one.
    expect((await k.del(id, AttributeName.UniqueIdentifier)).resultReason).toBe(ResultReason.PermissionDenied);
    expect((await k.del(id, AttributeName.ObjectGroup)).resultReason).toBe(ResultReason.ItemNotFound);
    // Multi-instance rules: Name, Object Group, Link, Application Specific Information, Alternative Name, custom.
    for (const a of [attr.name('n2'), attr.text(AttributeName.ObjectGroup, 'g1'), attr.text(AttributeName.ObjectGroup, 'g2'), attr.text('y-server', 'v')]) {
      const r = await k.add(id, a);
      expect(r.resultReason, a.name).toBe(a.name === 'y-server' ? ResultReason.PermissionDenied : undefined);
    }
    // 64 instances at most: the 65th is Index Out of Bounds.
    for (let i = 0; i < 64; i++) expect((await k.add(id, attr.text('x-many', String(i)))).resultStatus).toBe(ResultStatus.Success);
    expect((await k.add(id, attr.text('x-many', 'one too many'))).resultReason).toBe(ResultReason.IndexOutOfBounds);
  });
});

describe('a destroyed object (KMIP 1.4 §3.22, §4.21)', () => {
  it('has no content (Get: Item Not Found) but its attributes stay readable and Locate finds it by State', async () => {
    const k = ops(h);
    const id = await k.create([attr.name('gone-key'), attr.text('x-team', 'blue')]);
    expect((await k.one(Operation.Revoke, encodeRevokeRequest({ uniqueIdentifier: id, revocationReason: { code: RevocationReasonCode.KeyCompromise } }))).resultStatus).toBe(ResultStatus.Success);
    expect((await k.one(Operation.Destroy, encodeDestroyRequest({ uniqueIdentifier: id }))).resultStatus).toBe(ResultStatus.Success);
    expect((await k.one(Operation.Get, encodeGetRequest({ uniqueIdentifier: id }))).resultReason).toBe(ResultReason.ItemNotFound);
    const attrs = await k.attributes(id);
    const state = attrs.find((a) => a.name === AttributeName.State)?.value;
    expect(state).toMatchObject({ type: 'Enumeration', value: State.DestroyedCompromised });
    expect(attrs.map((a) => a.name)).toEqual(expect.arrayContaining([AttributeName.DestroyDate, AttributeName.CompromiseDate, AttributeName.Name, 'x-team']));
    expect(attrs.map((a) => a.name)).toContain(AttributeName.Digest); // metadata: kept from the content before Destroy (as in OASIS SKLC-O-1)
    const list = await k.one(Operation.GetAttributeList, encodeGetAttributeListRequest({ uniqueIdentifier: id }));
    expect(decodeGetAttributeListResponse(list.payload).attributeNames).toEqual(expect.arrayContaining([AttributeName.DestroyDate, AttributeName.State]));
    expect((await k.locate({ attributes: [attr.name('gone-key')] })).ids).toEqual([]);
    expect((await k.locate({ attributes: [attr.name('gone-key'), attr.enumeration(AttributeName.State, State.DestroyedCompromised)] })).ids).toEqual([id]);
    // Attributes of a destroyed object can still be changed by its owner (metadata is kept).
    expect((await k.add(id, attr.text('x-note', 'shredded'))).resultStatus).toBe(ResultStatus.Success);
  });
});
