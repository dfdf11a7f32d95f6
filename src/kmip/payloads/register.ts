import { decodeTemplateAttribute, encodeTemplateAttribute, type TemplateAttribute } from '../attributes.js';
import { KmipError } from '../errors.js';
import { ObjectType } from '../enums.js';
import { decodeObjectContent, encodeObjectContent, type ObjectContent } from '../objects/object-content.js';
import type { SymmetricKey } from '../objects/symmetric-key.js';
import { Tag } from '../tags.js';
import { ttlv, type TtlvItem } from '../ttlv/index.js';
import { payloadFields, requestPayload, responsePayload } from './payload.js';

/** Register (KMIP 1.4 §4.3) of a symmetric key. `symmetricKey.material` is secret. */
export interface RegisterRequest {
  readonly objectType: number;
  readonly templateAttribute: TemplateAttribute;
  readonly symmetricKey: SymmetricKey;
}

export interface RegisterResponse {
  readonly uniqueIdentifier: string;
  readonly templateAttribute?: TemplateAttribute;
}

/** Register of any supported object (symmetric key, secret data, opaque object). Its bytes are secret. */
export interface RegisterObjectRequest {
  readonly templateAttribute: TemplateAttribute;
  readonly content: ObjectContent;
}

export function encodeRegisterObjectRequest(r: RegisterObjectRequest): TtlvItem {
  return requestPayload([
    ttlv.enumeration(Tag.ObjectType, r.content.objectType),
    encodeTemplateAttribute(r.templateAttribute),
    encodeObjectContent(r.content),
  ]);
}

export function decodeRegisterObjectRequest(item: TtlvItem | undefined): RegisterObjectRequest {
  const f = payloadFields(item);
  const objectType = f.required(Tag.ObjectType, 'Enumeration');
  const ta = f.item(Tag.TemplateAttribute);
  const templateAttribute = ta === undefined ? { templateNames: [], attributes: [] } : decodeTemplateAttribute(ta);
  return { templateAttribute, content: decodeObjectContent(objectType, (tag) => f.item(tag)) };
}

export function encodeRegisterRequest(r: RegisterRequest): TtlvItem {
  return requestPayload([
    ttlv.enumeration(Tag.ObjectType, r.objectType),
    encodeTemplateAttribute(r.templateAttribute),
    encodeObjectContent({ objectType: ObjectType.SymmetricKey, symmetricKey: r.symmetricKey }),
  ]);
}

/** Symmetric keys only (the vSphere path); other object types: decodeRegisterObjectRequest. */
export function decodeRegisterRequest(item: TtlvItem | undefined): RegisterRequest {
  const r = decodeRegisterObjectRequest(item);
  if (r.content.objectType !== ObjectType.SymmetricKey) {
    throw new KmipError('KMIP_FEATURE_NOT_SUPPORTED', `expected a symmetric key, not object type ${r.content.objectType}`);
  }
  return { objectType: r.content.objectType, templateAttribute: r.templateAttribute, symmetricKey: r.content.symmetricKey };
}

export function encodeRegisterResponse(r: RegisterResponse): TtlvItem {
  return responsePayload([
    ttlv.text(Tag.UniqueIdentifier, r.uniqueIdentifier),
    r.templateAttribute === undefined ? undefined : encodeTemplateAttribute(r.templateAttribute),
  ]);
}

export function decodeRegisterResponse(item: TtlvItem | undefined): RegisterResponse {
  const f = payloadFields(item);
  const ta = f.item(Tag.TemplateAttribute);
  return {
    uniqueIdentifier: f.required(Tag.UniqueIdentifier, 'TextString'),
    ...(ta === undefined ? {} : { templateAttribute: decodeTemplateAttribute(ta) }),
  };
}
