import { AttributeName } from '../../kmip/attributes.js';
import { decodeGetAttributeListRequest, encodeGetAttributeListResponse } from '../../kmip/payloads/get-attribute-list.js';
import type { OperationHandler } from '../context.js';
import { withImplied } from '../managed-object.js';
import { loadOwned } from '../object-access.js';
import { definedIn } from '../server-attributes.js';
import { hasDigest } from './get-attributes.js';

/**
 * Get Attribute List (KMIP 1.4 §4.13): the names of the object's attributes, each once, Digest
 * included when Get Attributes would answer one, none newer than the request's protocol version. A
 * destroyed object's attributes stay listed.
 */
export const handleGetAttributeList: OperationHandler = async (ctx, payload) => {
  const req = decodeGetAttributeListRequest(payload);
  const obj = await loadOwned(ctx, req.uniqueIdentifier, 'read');
  const names = new Set(withImplied(obj.attributes).map((a) => a.name));
  if (hasDigest(obj)) names.add(AttributeName.Digest);
  const known = [...names].filter((n) => definedIn(n, ctx.version));
  return { objectId: obj.record.id, payload: encodeGetAttributeListResponse({ uniqueIdentifier: obj.record.id, attributeNames: known }) };
};
