import { KmipError } from '../../kmip/errors.js';
import { decodeModifyAttributeRequest, encodeModifyAttributeResponse } from '../../kmip/payloads/modify-attribute.js';
import { Tag } from '../../kmip/tags.js';
import { canClientModify, isKnownAttribute } from '../attribute-rules.js';
import type { OperationHandler } from '../context.js';
import { updateOwned } from '../object-access.js';

/** Modify Attribute (KMIP 1.1 §4.15): replaces the instance at Attribute Index (default 0), which must exist. */
export const handleModifyAttribute: OperationHandler = async (ctx, payload) => {
  const req = decodeModifyAttributeRequest(payload);
  const a = req.attribute;
  const index = a.index ?? 0;
  if (!isKnownAttribute(a.name)) throw new KmipError('KMIP_INVALID_FIELD', `attribute '${a.name}' is not supported`);
  if (!canClientModify(a.name)) throw new KmipError('KMIP_PERMISSION_DENIED', `attribute '${a.name}' is read-only for clients`);
  const obj = await updateOwned(ctx, req.uniqueIdentifier, (o) => {
    let seen = 0;
    const pos = o.attributes.findIndex((x) => x.name === a.name && seen++ === index);
    if (pos < 0) throw new KmipError('KMIP_ITEM_NOT_FOUND', `attribute '${a.name}' has no instance ${index}`);
    o.attributes[pos] = { name: a.name, value: { ...a.value, tag: Tag.AttributeValue } };
  });
  return { objectId: obj.record.id, payload: encodeModifyAttributeResponse({ uniqueIdentifier: obj.record.id, attribute: a }) };
};
