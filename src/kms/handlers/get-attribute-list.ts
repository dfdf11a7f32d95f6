import { decodeGetAttributeListRequest, encodeGetAttributeListResponse } from '../../kmip/payloads/get-attribute-list.js';
import type { OperationHandler } from '../context.js';
import { loadOwned } from '../object-access.js';

/** Get Attribute List (KMIP 1.1 §4.13): the names of the object's attributes, each once. */
export const handleGetAttributeList: OperationHandler = async (ctx, payload) => {
  const req = decodeGetAttributeListRequest(payload);
  const obj = await loadOwned(ctx, req.uniqueIdentifier, 'read');
  const attributeNames = [...new Set(obj.attributes.map((a) => a.name))];
  return { objectId: obj.record.id, payload: encodeGetAttributeListResponse({ uniqueIdentifier: obj.record.id, attributeNames }) };
};
