import { decodeTemplateAttribute, encodeTemplateAttribute, type TemplateAttribute } from '../attributes.js';
import { KmipError } from '../errors.js';
import { ObjectType } from '../enums.js';
import { decodeSymmetricKey, encodeSymmetricKey, type SymmetricKey } from '../objects/symmetric-key.js';
import { Tag } from '../tags.js';
import { ttlv, type TtlvItem } from '../ttlv/index.js';
import { payloadFields, requestPayload, responsePayload } from './payload.js';

/** Register (KMIP 1.4 §4.3): store a client-supplied symmetric key. `key.material` is secret. */
export interface RegisterRequest {
  readonly objectType: number;
  readonly templateAttribute: TemplateAttribute;
  readonly symmetricKey: SymmetricKey;
}

export interface RegisterResponse {
  readonly uniqueIdentifier: string;
  readonly templateAttribute?: TemplateAttribute;
}

export function encodeRegisterRequest(r: RegisterRequest): TtlvItem {
  return requestPayload([
    ttlv.enumeration(Tag.ObjectType, r.objectType),
    encodeTemplateAttribute(r.templateAttribute),
    encodeSymmetricKey(r.symmetricKey),
  ]);
}

export function decodeRegisterRequest(item: TtlvItem | undefined): RegisterRequest {
  const f = payloadFields(item);
  const objectType = f.required(Tag.ObjectType, 'Enumeration');
  if (objectType !== ObjectType.SymmetricKey) {
    throw new KmipError('KMIP_FEATURE_NOT_SUPPORTED', `Register supports symmetric keys only (object type ${objectType})`);
  }
  const ta = f.item(Tag.TemplateAttribute);
  const key = f.item(Tag.SymmetricKey);
  if (key === undefined) throw new KmipError('KMIP_MISSING_FIELD', 'Register lacks Symmetric Key');
  return {
    objectType,
    templateAttribute: ta === undefined ? { templateNames: [], attributes: [] } : decodeTemplateAttribute(ta),
    symmetricKey: decodeSymmetricKey(key),
  };
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
