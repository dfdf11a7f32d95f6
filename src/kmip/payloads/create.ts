import { decodeTemplateAttribute, encodeTemplateAttribute, type TemplateAttribute } from '../attributes.js';
import { KmipError } from '../errors.js';
import { Tag } from '../tags.js';
import { ttlv, type TtlvItem } from '../ttlv/index.js';
import { payloadFields, requestPayload, responsePayload } from './payload.js';

/** Create (KMIP 1.4 §4.1): a new symmetric key from a Template-Attribute. */
export interface CreateRequest {
  readonly objectType: number;
  readonly templateAttribute: TemplateAttribute;
}

export interface CreateResponse {
  readonly objectType: number;
  readonly uniqueIdentifier: string;
  /** Attributes the server set implicitly, if it reports them. */
  readonly templateAttribute?: TemplateAttribute;
}

export function encodeCreateRequest(r: CreateRequest): TtlvItem {
  return requestPayload([ttlv.enumeration(Tag.ObjectType, r.objectType), encodeTemplateAttribute(r.templateAttribute)]);
}

export function decodeCreateRequest(item: TtlvItem | undefined): CreateRequest {
  const f = payloadFields(item);
  const ta = f.item(Tag.TemplateAttribute);
  if (ta === undefined) throw new KmipError('KMIP_MISSING_FIELD', 'Create lacks Template-Attribute');
  return { objectType: f.required(Tag.ObjectType, 'Enumeration'), templateAttribute: decodeTemplateAttribute(ta) };
}

export function encodeCreateResponse(r: CreateResponse): TtlvItem {
  return responsePayload([
    ttlv.enumeration(Tag.ObjectType, r.objectType),
    ttlv.text(Tag.UniqueIdentifier, r.uniqueIdentifier),
    r.templateAttribute === undefined ? undefined : encodeTemplateAttribute(r.templateAttribute),
  ]);
}

export function decodeCreateResponse(item: TtlvItem | undefined): CreateResponse {
  const f = payloadFields(item);
  const ta = f.item(Tag.TemplateAttribute);
  return {
    objectType: f.required(Tag.ObjectType, 'Enumeration'),
    uniqueIdentifier: f.required(Tag.UniqueIdentifier, 'TextString'),
    ...(ta === undefined ? {} : { templateAttribute: decodeTemplateAttribute(ta) }),
  };
}
