import { isCustomAttributeName } from '../../kmip/attributes.js';
import { KmipError } from '../../kmip/errors.js';
import { decodeAddAttributeRequest, encodeAddAttributeResponse } from '../../kmip/payloads/add-attribute.js';
import { Tag } from '../../kmip/tags.js';
import { allowsMultipleInstances, canClientModify, isKnownAttribute } from '../attribute-rules.js';
import type { OperationHandler } from '../context.js';
import { instancesOf, nextIndex } from '../managed-object.js';
import { updateOwned } from '../object-access.js';

const MAX_INSTANCES = 64;

/**
 * Add Attribute (KMIP 1.4 §4.14, errors §11.15): a new instance with a new Attribute Index (one
 * past the highest in use; the others keep theirs). Refused: an Attribute Index in the request
 * (Invalid Field), a read-only or server-set attribute (Permission Denied), a second instance of
 * a single-instance attribute (Illegal Operation), more than 64 instances (Index Out of Bounds).
 */
export const handleAddAttribute: OperationHandler = async (ctx, payload) => {
  const req = decodeAddAttributeRequest(payload);
  const a = req.attribute;
  if (a.index !== undefined) throw new KmipError('KMIP_INVALID_FIELD', 'Add Attribute takes no Attribute Index: the server assigns it');
  if (!isKnownAttribute(a.name)) throw new KmipError('KMIP_INVALID_FIELD', `attribute '${a.name}' is not supported`);
  if (!canClientModify(a.name)) throw new KmipError('KMIP_PERMISSION_DENIED', `attribute '${a.name}' is read-only for clients`);
  if (isCustomAttributeName(a.name) && a.name.length > 128) throw new KmipError('KMIP_INVALID_FIELD', 'custom attribute name too long');
  let index = 0;
  const obj = await updateOwned(ctx, req.uniqueIdentifier, (o) => {
    const existing = instancesOf(o.attributes, a.name);
    if (existing.length > 0 && !allowsMultipleInstances(a.name)) {
      throw new KmipError('KMIP_ILLEGAL_OPERATION', `attribute '${a.name}' already exists and allows one instance; use Modify Attribute`);
    }
    if (existing.length >= MAX_INSTANCES) throw new KmipError('KMIP_INDEX_OUT_OF_BOUNDS', `'${a.name}' has the most instances an object may have (${MAX_INSTANCES})`);
    index = nextIndex(o.attributes, a.name);
    o.attributes.push({ name: a.name, index, value: { ...a.value, tag: Tag.AttributeValue } });
  });
  const attribute = index === 0 ? { name: a.name, value: a.value } : { name: a.name, index, value: a.value };
  return { objectId: obj.record.id, payload: encodeAddAttributeResponse({ uniqueIdentifier: obj.record.id, attribute }) };
};
