import { createHash } from 'node:crypto';
import { AttributeName, type Attribute } from '../../kmip/attributes.js';
import { KeyFormatType, ObjectType } from '../../kmip/enums.js';
import { decodeGetAttributesRequest, encodeGetAttributesResponse } from '../../kmip/payloads/get-attributes.js';
import { Tag } from '../../kmip/tags.js';
import { ttlv } from '../../kmip/ttlv/index.js';
import type { OpContext, OperationHandler } from '../context.js';
import { enumValue, firstValue, withImplied, withIndexes, type ManagedObject } from '../managed-object.js';
import { loadOwned } from '../object-access.js';
import { definedIn } from '../server-attributes.js';

const SHA_256 = 0x06; // Hashing Algorithm (KMIP 1.4 §9.1.3.2.16)

/**
 * Get Attributes (KMIP 1.4 §4.12): the named attributes, in the order they were named (every
 * instance of each, with its Attribute Index), or all of them if none is named; names the object
 * does not have are skipped. Attributes of a destroyed object stay readable (§3.22: its metadata
 * is kept). Attributes newer than the request's protocol version are left out (server-attributes.ts).
 * Original Creation Date is implied by Initial Date (managed-object.ts). Digest (§3.17) is derived on read for objects whose content is still held.
 */
export const handleGetAttributes: OperationHandler = async (ctx, payload) => {
  const req = decodeGetAttributesRequest(payload);
  const obj = await loadOwned(ctx, req.uniqueIdentifier, 'read');
  const wanted = [...new Set(req.attributeNames)];
  const wantsDigest = wanted.length === 0 || wanted.includes(AttributeName.Digest);
  const digest = wantsDigest && firstValue(obj.attributes, AttributeName.Digest) === undefined ? digestAttribute(ctx, obj) : undefined;
  const implied = withImplied(obj.attributes);
  const all = withIndexes(digest === undefined ? implied : [...implied, digest]).filter((a) => definedIn(a.name, ctx.version));
  const attributes = wanted.length === 0 ? all : wanted.flatMap((name) => all.filter((a) => a.name === name));
  return { objectId: obj.record.id, payload: encodeGetAttributesResponse({ uniqueIdentifier: obj.record.id, attributes }) };
};

/** Object types whose stored content has a digest here, and the Key Format Type it is computed on. */
const digestFormat = new Map<number, number | undefined>([
  [ObjectType.SymmetricKey, KeyFormatType.Raw],
  [ObjectType.SecretData, KeyFormatType.Opaque],
  [ObjectType.OpaqueObject, undefined],
]);

/** True if Get Attributes answers a Digest for this object (content held, type known). */
export function hasDigest(obj: ManagedObject): boolean {
  return obj.record.sealedKey !== null && digestFormat.has(enumValue(obj.attributes, AttributeName.ObjectType) ?? -1);
}

/**
 * Digest (KMIP 1.4 §3.17): SHA-256 of the key value in its default format (a symmetric key's raw
 * bytes, secret data's opaque bytes, an opaque object's value). The unsealed bytes are zeroed at once.
 */
export function digestAttribute(ctx: OpContext, obj: ManagedObject): Attribute | undefined {
  const sealed = obj.record.sealedKey;
  const type = enumValue(obj.attributes, AttributeName.ObjectType) ?? -1;
  if (sealed === null || !digestFormat.has(type)) return undefined;
  const plain = ctx.deps.sealer.unseal(obj.record.id, sealed);
  try {
    // Secret data and opaque objects are stored as their 4-byte type then their value (stored-content.ts).
    const value = type === ObjectType.SymmetricKey ? plain : plain.subarray(4);
    const format = digestFormat.get(type);
    const v = Tag.AttributeValue;
    return {
      name: AttributeName.Digest,
      value: ttlv.struct(v, [
        ttlv.enumeration(Tag.HashingAlgorithm, SHA_256),
        ttlv.bytes(Tag.DigestValue, createHash('sha256').update(value).digest()),
        ttlv.opt(format, (f) => ttlv.enumeration(Tag.KeyFormatType, f)),
      ]),
    };
  } finally {
    plain.fill(0);
  }
}
