import type { Attribute } from '../../kmip/attributes.js';
import { KmipError } from '../../kmip/errors.js';
import { decodeDeleteAttributeRequest, encodeDeleteAttributeResponse } from '../../kmip/payloads/delete-attribute.js';
import { canClientModify, isKnownAttribute } from '../attribute-rules.js';
import type { OperationHandler } from '../context.js';
import { updateOwned } from '../object-access.js';

/** Delete Attribute (KMIP 1.1 §4.16): removes the instance at Attribute Index (default 0). */
export const handleDeleteAttribute: OperationHandler = async (ctx, payload) => {
  const req = decodeDeleteAttributeRequest(payload);
  const name = req.attributeName;
  const index = req.attributeIndex ?? 0;
  if (!isKnownAttribute(name)) throw new KmipError('KMIP_INVALID_FIELD', `attribute '${name}' is not supported`);
  if (!canClientModify(name)) throw new KmipError('KMIP_PERMISSION_DENIED', `attribute '${name}' cannot be deleted by a client`);
  let deleted: Attribute | undefined;
  const obj = await updateOwned(ctx, req.uniqueIdentifier, (o) => {
    let seen = 0;
    const pos = o.attributes.findIndex((x) => x.name === name && seen++ === index);
    if (pos < 0) throw new KmipError('KMIP_ITEM_NOT_FOUND', `attribute '${name}' has no instance ${index}`);
    deleted = o.attributes[pos];
    o.attributes.splice(pos, 1);
  });
  if (deleted === undefined) throw new KmipError('KMIP_GENERAL_FAILURE', 'attribute vanished');
  const attribute = index === 0 ? { name, value: deleted.value } : { name, index, value: deleted.value };
  return { objectId: obj.record.id, payload: encodeDeleteAttributeResponse({ uniqueIdentifier: obj.record.id, attribute }) };
};
