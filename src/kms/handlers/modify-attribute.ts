import { KmipError } from '../../kmip/errors.js';
import { decodeModifyAttributeRequest, encodeModifyAttributeResponse } from '../../kmip/payloads/modify-attribute.js';
import { Tag } from '../../kmip/tags.js';
import { canClientModify, isKnownAttribute } from '../attribute-rules.js';
import type { OperationHandler } from '../context.js';
import { instancesOf, positionOf } from '../managed-object.js';
import { updateOwned } from '../object-access.js';
import { followSensitivity } from '../server-attributes.js';

/**
 * Modify Attribute (KMIP 1.4 §4.15, errors §11.16): replaces the value of the instance with the
 * given Attribute Index (0 if none), which keeps its index. An attribute the object does not have
 * at all is Invalid Field ("it needs to first be added"); no instance with that index is Item Not
 * Found; a read-only or server-set attribute is Permission Denied.
 */
export const handleModifyAttribute: OperationHandler = async (ctx, payload) => {
  const req = decodeModifyAttributeRequest(payload);
  const a = req.attribute;
  const index = a.index ?? 0;
  if (!isKnownAttribute(a.name)) throw new KmipError('KMIP_INVALID_FIELD', `attribute '${a.name}' is not supported`);
  if (!canClientModify(a.name)) throw new KmipError('KMIP_PERMISSION_DENIED', `attribute '${a.name}' is read-only for clients`);
  const obj = await updateOwned(ctx, req.uniqueIdentifier, (o) => {
    if (instancesOf(o.attributes, a.name).length === 0) throw new KmipError('KMIP_INVALID_FIELD', `the object has no '${a.name}': add it first`);
    const pos = positionOf(o.attributes, a.name, index);
    if (pos < 0) throw new KmipError('KMIP_ITEM_NOT_FOUND', `attribute '${a.name}' has no instance ${index}`);
    o.attributes[pos] = { name: a.name, index, value: { ...a.value, tag: Tag.AttributeValue } };
    followSensitivity(o.attributes);
  });
  return { objectId: obj.record.id, payload: encodeModifyAttributeResponse({ uniqueIdentifier: obj.record.id, attribute: a }) };
};
