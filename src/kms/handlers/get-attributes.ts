import { decodeGetAttributesRequest, encodeGetAttributesResponse } from '../../kmip/payloads/get-attributes.js';
import type { OperationHandler } from '../context.js';
import { withIndexes } from '../managed-object.js';
import { loadOwned } from '../object-access.js';

/** Get Attributes (KMIP 1.1 §4.12): the named attributes (all of them if none named); unknown names are skipped. */
export const handleGetAttributes: OperationHandler = async (ctx, payload) => {
  const req = decodeGetAttributesRequest(payload);
  const obj = await loadOwned(ctx, req.uniqueIdentifier, 'read');
  const all = withIndexes(obj.attributes);
  const wanted = new Set(req.attributeNames);
  const attributes = wanted.size === 0 ? all : all.filter((a) => wanted.has(a.name));
  return { objectId: obj.record.id, payload: encodeGetAttributesResponse({ uniqueIdentifier: obj.record.id, attributes }) };
};
