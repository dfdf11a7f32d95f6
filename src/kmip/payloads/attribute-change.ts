import { decodeAttribute, encodeAttribute, type Attribute } from '../attributes.js';
import { KmipError } from '../errors.js';
import { Tag } from '../tags.js';
import { ttlv, type TtlvItem } from '../ttlv/index.js';
import { optionalUid, payloadFields, requestPayload, responsePayload } from './payload.js';

/**
 * Shared shape of Add Attribute (§4.14) and Modify Attribute (§4.15): request and response both
 * carry an optional/required Unique Identifier and one Attribute.
 */
export interface AttributeChangeRequest {
  readonly uniqueIdentifier?: string;
  readonly attribute: Attribute;
}

export interface AttributeChangeResponse {
  readonly uniqueIdentifier: string;
  readonly attribute: Attribute;
}

export function encodeAttributeChangeRequest(r: AttributeChangeRequest): TtlvItem {
  return requestPayload([optionalUid(r.uniqueIdentifier), encodeAttribute(r.attribute)]);
}

export function decodeAttributeChangeRequest(item: TtlvItem | undefined): AttributeChangeRequest {
  const f = payloadFields(item);
  const uid = f.optional(Tag.UniqueIdentifier, 'TextString');
  const a = f.item(Tag.Attribute);
  if (a === undefined) throw new KmipError('KMIP_MISSING_FIELD', 'request lacks Attribute');
  return { ...(uid === undefined ? {} : { uniqueIdentifier: uid }), attribute: decodeAttribute(a) };
}

export function encodeAttributeChangeResponse(r: AttributeChangeResponse): TtlvItem {
  return responsePayload([ttlv.text(Tag.UniqueIdentifier, r.uniqueIdentifier), encodeAttribute(r.attribute)]);
}

export function decodeAttributeChangeResponse(item: TtlvItem | undefined): AttributeChangeResponse {
  const f = payloadFields(item);
  const a = f.item(Tag.Attribute);
  if (a === undefined) throw new KmipError('KMIP_MISSING_FIELD', 'response lacks Attribute');
  return { uniqueIdentifier: f.required(Tag.UniqueIdentifier, 'TextString'), attribute: decodeAttribute(a) };
}
