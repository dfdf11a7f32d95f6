import type { Attribute } from '../../kmip/attributes.js';
import { KmipError } from '../../kmip/errors.js';
import { decodeDeleteAttributeRequest, encodeDeleteAttributeResponse } from '../../kmip/payloads/delete-attribute.js';
import { canClientDelete, isKnownAttribute } from '../attribute-rules.js';
import type { OperationHandler } from '../context.js';
import { indexed, positionOf } from '../managed-object.js';
import { updateOwned } from '../object-access.js';

/**
 * Delete Attribute (KMIP 1.4 §4.16, errors §11.17): removes the instance with the given Attribute
 * Index (0 if none); the other instances keep their indexes. No such attribute or instance: Item
 * Not Found; a read-only, server-set or REQUIRED attribute: Permission Denied.
 */
export const handleDeleteAttribute: OperationHandler = async (ctx, payload) => {
  const req = decodeDeleteAttributeRequest(payload);
  const name = req.attributeName;
  const index = req.attributeIndex ?? 0;
  if (!isKnownAttribute(name)) throw new KmipError('KMIP_INVALID_FIELD', `attribute '${name}' is not supported`);
  if (!canClientDelete(name)) throw new KmipError('KMIP_PERMISSION_DENIED', `attribute '${name}' cannot be deleted by a client`);
  let deleted: Attribute | undefined;
  const obj = await updateOwned(ctx, req.uniqueIdentifier, (o) => {
    const pos = positionOf(o.attributes, name, index);
    if (pos < 0) throw new KmipError('KMIP_ITEM_NOT_FOUND', `attribute '${name}' has no instance ${index}`);
    // Pin every index first: an instance stored without one must not take the deleted one's.
    o.attributes.splice(0, o.attributes.length, ...indexed(o.attributes));
    deleted = o.attributes[pos];
    o.attributes.splice(pos, 1);
  });
  if (deleted === undefined) throw new KmipError('KMIP_GENERAL_FAILURE', 'attribute vanished');
  const attribute = index === 0 ? { name, value: deleted.value } : { name, index, value: deleted.value };
  return { objectId: obj.record.id, payload: encodeDeleteAttributeResponse({ uniqueIdentifier: obj.record.id, attribute }) };
};
