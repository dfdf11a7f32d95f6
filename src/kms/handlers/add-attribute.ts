import { isCustomAttributeName } from '../../kmip/attributes.js';
import { KmipError } from '../../kmip/errors.js';
import { decodeAddAttributeRequest, encodeAddAttributeResponse } from '../../kmip/payloads/add-attribute.js';
import { Tag } from '../../kmip/tags.js';
import { allowsMultipleInstances, canClientModify, isKnownAttribute } from '../attribute-rules.js';
import type { OperationHandler } from '../context.js';
import { instancesOf } from '../managed-object.js';
import { updateOwned } from '../object-access.js';

const MAX_INSTANCES = 64;

/** Add Attribute (KMIP 1.1 §4.14): a new instance; single-instance attributes only if absent. */
export const handleAddAttribute: OperationHandler = async (ctx, payload) => {
  const req = decodeAddAttributeRequest(payload);
  const a = req.attribute;
  if (!isKnownAttribute(a.name)) throw new KmipError('KMIP_INVALID_FIELD', `attribute '${a.name}' is not supported`);
  if (!canClientModify(a.name)) throw new KmipError('KMIP_PERMISSION_DENIED', `attribute '${a.name}' is read-only for clients`);
  if (isCustomAttributeName(a.name) && a.name.length > 128) throw new KmipError('KMIP_INVALID_FIELD', 'custom attribute name too long');
  let index = 0;
  const obj = await updateOwned(ctx, req.uniqueIdentifier, (o) => {
    const existing = instancesOf(o.attributes, a.name);
    if (existing.length > 0 && !allowsMultipleInstances(a.name)) {
      throw new KmipError('KMIP_ILLEGAL_OPERATION', `attribute '${a.name}' already exists and allows one instance; use Modify Attribute`);
    }
    if (existing.length >= MAX_INSTANCES) throw new KmipError('KMIP_INVALID_FIELD', `too many instances of '${a.name}'`);
    index = existing.length;
    o.attributes.push({ name: a.name, value: { ...a.value, tag: Tag.AttributeValue } });
  });
  const attribute = index === 0 ? { name: a.name, value: a.value } : { name: a.name, index, value: a.value };
  return { objectId: obj.record.id, payload: encodeAddAttributeResponse({ uniqueIdentifier: obj.record.id, attribute }) };
};
