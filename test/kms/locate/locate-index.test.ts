import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { attr, AttributeName, type Attribute } from '../../../src/kmip/attributes.js';
import { CryptographicUsageMask as U, ObjectType, State, StorageStatusMask } from '../../../src/kmip/enums.js';
import { Operation } from '../../../src/kmip/operation-codes.js';
import { encodeActivateRequest } from '../../../src/kmip/payloads/activate.js';
import { Tag } from '../../../src/kmip/tags.js';
import { ttlv } from '../../../src/kmip/ttlv/index.js';
import { IndexedKeyStore } from '../../../src/kms/locate-index/indexed-store.js';
import { LocateIndex } from '../../../src/kms/locate-index/locate-index.js';
import { serializeAttributes } from '../../../src/kms/managed-object.js';
import { openHarness } from '../harness.js';
import { ops, type Harness } from './ops.js';

let h: Harness;
beforeEach(async () => {
  h = await openHarness();
});
afterEach(async () => {
  await h.close();
});

const link = (type: number, id: string): Attribute => ({
  name: AttributeName.Link,
  value: ttlv.struct(Tag.AttributeValue, [ttlv.enumeration(Tag.LinkType, type), ttlv.text(Tag.LinkedObjectIdentifier, id)]),
});
const mask = (m: number): Attribute => attr.int(AttributeName.CryptographicUsageMask, m);

describe('Locate by every attribute the profiles use, from the index', () => {
  it('matches Name, Object Type, algorithm, length, State, custom x-, Object Group, Link, Unique Identifier and usage-mask bits', async () => {
    const k = ops(h);
    const a = await k.create([attr.name('disk-a'), attr.text('x-vm', 'vm1'), attr.text(AttributeName.ObjectGroup, 'tenant-1'), mask(U.Encrypt | U.Decrypt)], 256);
    const b = await k.create([attr.name('disk-b'), attr.text('x-vm', 'vm1'), mask(U.Encrypt | U.Decrypt | U.WrapKey), link(0x0103, a)], 128);
    const c = await k.create([attr.name('disk-c'), attr.text('x-vm', 'vm2'), attr.text(AttributeName.ObjectGroup, 'tenant-1'), mask(U.Encrypt)], 128);
    const find = async (...attributes: Attribute[]) => (await k.locate({ attributes })).ids;
    expect(await find(attr.name('disk-b'))).toEqual([b]);
    expect(await find(attr.enumeration(AttributeName.ObjectType, ObjectType.SymmetricKey))).toEqual([c, b, a]); // newest first
    expect(await find(attr.int(AttributeName.CryptographicLength, 128))).toEqual([c, b]);
    expect(await find(attr.text('x-vm', 'vm1'))).toEqual([b, a]);
    expect(await find(attr.text('x-vm', 'vm1'), attr.int(AttributeName.CryptographicLength, 256))).toEqual([a]);
    expect(await find(attr.text(AttributeName.ObjectGroup, 'tenant-1'))).toEqual([c, a]);
    expect(await find(link(0x0103, a))).toEqual([b]);
    expect(await find(attr.text(AttributeName.UniqueIdentifier, c))).toEqual([c]);
    // Usage mask: objects having every bit asked for.
    expect(await find(mask(U.Encrypt))).toEqual([c, b, a]);
    expect(await find(mask(U.Encrypt | U.Decrypt))).toEqual([b, a]);
    expect(await find(mask(U.WrapKey))).toEqual([b]);
    expect(await find(mask(U.Sign))).toEqual([]);
    // State, kept current: Activate moves b out of Pre-Active.
    expect(await find(attr.enumeration(AttributeName.State, State.PreActive))).toEqual([c, b, a]);
    await k.one(Operation.Activate, encodeActivateRequest({ uniqueIdentifier: b }));
    expect(await find(attr.enumeration(AttributeName.State, State.Active))).toEqual([b]);
    expect(await find(attr.enumeration(AttributeName.State, State.PreActive))).toEqual([c, a]);
    // Attribute changes reach the index: renamed, the old name finds nothing.
    await k.modify(a, attr.name('disk-a2'));
    expect(await find(attr.name('disk-a'))).toEqual([]);
    expect(await find(attr.name('disk-a2'))).toEqual([a]);
    await k.del(c, AttributeName.ObjectGroup);
    expect(await find(attr.text(AttributeName.ObjectGroup, 'tenant-1'))).toEqual([a]);
  });

  it('takes date ranges from two instances, Maximum Items, Offset Items and the Storage Status Mask', async () => {
    const k = ops(h);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await k.create([attr.text('x-batch', 'r'), attr.date(AttributeName.ActivationDate, BigInt(4_000_000_000 + i * 100))]));
    const range = (lo: number, hi: number) => [attr.date(AttributeName.ActivationDate, BigInt(lo)), attr.date(AttributeName.ActivationDate, BigInt(hi))];
    expect((await k.locate({ attributes: range(4_000_000_100, 4_000_000_300) })).ids).toEqual([ids[3], ids[2], ids[1]]);
    expect((await k.locate({ attributes: range(4_000_000_300, 4_000_000_100) })).ids).toEqual([ids[3], ids[2], ids[1]]); // either order
    expect((await k.locate({ attributes: [attr.date(AttributeName.ActivationDate, 4_000_000_200n)] })).ids).toEqual([ids[2]]); // one instance: that date
    const byBatch = [attr.text('x-batch', 'r')];
    expect(await k.locate({ attributes: byBatch, maximumItems: 2 })).toEqual({ ids: [ids[4], ids[3]], located: 5 });
    expect(await k.locate({ attributes: byBatch, maximumItems: 2, offsetItems: 2 })).toEqual({ ids: [ids[2], ids[1]], located: 5 });
    expect(await k.locate({ attributes: byBatch, offsetItems: 9 })).toEqual({ ids: [], located: 5 });
    expect((await k.locate({ attributes: byBatch, storageStatusMask: StorageStatusMask.ArchivalStorage })).ids).toEqual([]);
    expect((await k.locate({ attributes: byBatch, storageStatusMask: StorageStatusMask.OnlineStorage | StorageStatusMask.ArchivalStorage })).ids).toHaveLength(5);
  });

  it('answers what a full scan of the store answers, for each identity, after a mix of writes', async () => {
    const alice = ops(h, 'alice');
    const bob = ops(h, 'bob');
    const names = ['n0', 'n1', 'n2'];
    const made: string[] = [];
    for (let i = 0; i < 30; i++) {
      const who = i % 3 === 0 ? bob : alice;
      const extra = [attr.name(names[i % 3] ?? 'n'), attr.text('x-i', String(i % 4))];
      if (i % 5 === 0) extra.push(attr.text('x-vmcrypt-grant', who === bob ? 'alice' : 'bob'));
      made.push(await who.create(extra, i % 2 === 0 ? 128 : 256));
      if (i % 7 === 0) await who.modify(made[i] ?? '', attr.text('x-i', 'changed'));
    }
    const store = h.server.deps.store;
    expect(store).toBeInstanceOf(IndexedKeyStore);
    const scan = new LocateIndex();
    for (const r of await store.list()) scan.put(r);
    const queries: Attribute[][] = [[], [attr.name('n1')], [attr.text('x-i', '2')], [attr.text('x-i', 'changed')], [attr.int(AttributeName.CryptographicLength, 128), attr.name('n0')]];
    for (const identity of ['alice', 'bob', 'mallory']) {
      for (const attributes of queries) {
        const q = { identity, attributes, includeDestroyed: false };
        expect(await (store as IndexedKeyStore).locate(q), `${identity} ${attributes.map((a) => a.name).join(',')}`).toEqual(scan.locate(q));
      }
    }
    // Granted objects come after the caller's own.
    const all = await (store as IndexedKeyStore).locate({ identity: 'bob', attributes: [], includeDestroyed: false });
    expect(all.granted.length).toBeGreaterThan(0);
  });
});

describe('LocateIndex on its own', () => {
  const rec = (id: string, version: number, name: string) => ({
    id,
    owner: 'alice',
    version,
    sealedKey: null,
    attributes: serializeAttributes([attr.enumeration(AttributeName.State, State.PreActive), attr.name(name)]),
  });
  const byName = (idx: LocateIndex, name: string) => idx.locate({ identity: 'alice', attributes: [attr.name(name)], includeDestroyed: false }).own;

  it('never lets an older read replace a newer one, and leaves out a record that does not decode', () => {
    const idx = new LocateIndex();
    idx.put(rec('k1', 2, 'new'));
    idx.put(rec('k1', 1, 'old')); // a stale read (a slower node, a list taken earlier)
    expect(byName(idx, 'new')).toEqual(['k1']);
    expect(byName(idx, 'old')).toEqual([]);
    idx.put({ ...rec('k1', 3, 'x'), attributes: '{"not":"an array"}' });
    expect(byName(idx, 'new')).toEqual([]);
    expect(idx.size).toBe(0);
  });
});
