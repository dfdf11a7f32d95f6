// The Locate index keys most attributes by their stored hex without decoding them
// (src/kms/locate-index/index-entry.ts): the keys must be exactly those of the decoded form
// (lookupKey over every instance), for every kind of value a document holds.
import { describe, expect, it } from 'vitest';
import { attr, AttributeName as A, type Attribute } from '../../../src/kmip/attributes.js';
import { State } from '../../../src/kmip/enums.js';
import { Tag } from '../../../src/kmip/tags.js';
import { ttlv } from '../../../src/kmip/ttlv/index.js';
import { entryOf, lookupKey } from '../../../src/kms/locate-index/index-entry.js';
import { parseAttributes, serializeAttributes, withImplied } from '../../../src/kms/managed-object.js';
import { GRANT_ATTRIBUTE } from '../../../src/kms/object-access.js';
import { addServerAttributes } from '../../../src/kms/server-attributes.js';

const v = Tag.AttributeValue;

function document(): Attribute[] {
  const attrs: Attribute[] = [
    attr.text(A.UniqueIdentifier, 'id-1'),
    attr.enumeration(A.ObjectType, 2),
    attr.enumeration(A.State, State.Active),
    attr.int(A.CryptographicUsageMask, 12),
    attr.name('first'),
    attr.name('second'),
    attr.date(A.InitialDate, 1_700_000_000n),
    attr.date(A.ActivationDate, 1_700_000_100n),
    attr.text('x-custom', 'a value'),
    attr.text(GRANT_ATTRIBUTE, 'bob'),
    { name: 'x-bytes', value: ttlv.bytes(v, Buffer.from([0, 1, 2, 0xff])) },
    { name: 'x-long', value: ttlv.long(v, 1n << 40n) },
    { name: A.Digest, value: ttlv.struct(v, [ttlv.enumeration(Tag.HashingAlgorithm, 6), ttlv.bytes(Tag.DigestValue, Buffer.alloc(32, 7))]) },
    // A value stored under another tag than Attribute Value (an older writer): decoded, keyed the same.
    { name: 'x-tagged', value: ttlv.text(Tag.NameValue, 'other tag') },
  ];
  addServerAttributes(attrs, 2, true);
  return attrs;
}

describe('index entry from the stored document', () => {
  it('has the keys, dates, grantees and state of the decoded attributes', () => {
    const json = serializeAttributes(document());
    const e = entryOf({ id: 'id-1', owner: 'alice', version: 3, attributes: json, sealedKey: null }, 0);
    const decoded = withImplied(parseAttributes(json));
    const expected = decoded.filter((a) => a.value.type !== 'DateTime' && a.name !== A.UniqueIdentifier).map(lookupKey);
    expect([...e.keys].sort()).toEqual(expected.sort());
    expect(e.keys.some((k) => k.startsWith(`${A.Name}\0n:`))).toBe(true);
    expect([...e.dates.keys()].sort()).toEqual([A.ActivationDate, A.InitialDate, A.OriginalCreationDate].sort());
    expect(e.grantees).toEqual(['bob']);
    expect(e.usageMask).toBe(12);
    expect(e.destroyed).toBe(false);
  });
});
