import { decodeAttribute, encodeAttribute, type Attribute } from '../attributes.js';
import { KmipError } from '../errors.js';
import { Tag } from '../tags.js';
import { ttlv, type TtlvItem } from '../ttlv/index.js';
import { optionalUid, payloadFields, requestPayload, responsePayload } from './payload.js';

/** Delete Attribute (KMIP 1.4 §4.16). Index absent = index 0. */
export interface DeleteAttributeRequest {
  readonly uniqueIdentifier?: string;
  readonly attributeName: string;
  readonly attributeIndex?: number;
}

export interface DeleteAttributeResponse {
  readonly uniqueIdentifier: string;
  /** The deleted attribute. */
  readonly attribute: Attribute;
}

export function encodeDeleteAttributeRequest(r: DeleteAttributeRequest): TtlvItem {
  return requestPayload([
    optionalUid(r.uniqueIdentifier),
    ttlv.text(Tag.AttributeName, r.attributeName),
    ttlv.opt(r.attributeIndex, (v) => ttlv.int(Tag.AttributeIndex, v)),
  ]);
}

export function decodeDeleteAttributeRequest(item: TtlvItem | undefined): DeleteAttributeRequest {
  const f = payloadFields(item);
  const uid = f.optional(Tag.UniqueIdentifier, 'TextString');
  const idx = f.optional(Tag.AttributeIndex, 'Integer');
  return {
    ...(uid === undefined ? {} : { uniqueIdentifier: uid }),
    attributeName: f.required(Tag.AttributeName, 'TextString'),
    ...(idx === undefined ? {} : { attributeIndex: idx }),
  };
}

export function encodeDeleteAttributeResponse(r: DeleteAttributeResponse): TtlvItem {
  return responsePayload([ttlv.text(Tag.UniqueIdentifier, r.uniqueIdentifier), encodeAttribute(r.attribute)]);
}

export function decodeDeleteAttributeResponse(item: TtlvItem | undefined): DeleteAttributeResponse {
  const f = payloadFields(item);
  const a = f.item(Tag.Attribute);
  if (a === undefined) throw new KmipError('KMIP_MISSING_FIELD', 'Delete Attribute response lacks Attribute');
  return { uniqueIdentifier: f.required(Tag.UniqueIdentifier, 'TextString'), attribute: decodeAttribute(a) };
}
