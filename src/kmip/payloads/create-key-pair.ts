import { decodeTemplateAttribute, encodeTemplateAttribute, type TemplateAttribute } from '../attributes.js';
import { Tag } from '../tags.js';
import { ttlv, type TtlvItem } from '../ttlv/index.js';
import { payloadFields, requestPayload, responsePayload } from './payload.js';

/**
 * Create Key Pair (KMIP 1.4 §4.2): attributes common to both keys, then those of the private and
 * of the public key (which override the common ones). All three are optional.
 */
export interface CreateKeyPairRequest {
  readonly common?: TemplateAttribute;
  readonly privateKey?: TemplateAttribute;
  readonly publicKey?: TemplateAttribute;
}

export interface CreateKeyPairResponse {
  readonly privateKeyUniqueIdentifier: string;
  readonly publicKeyUniqueIdentifier: string;
  /** Attributes the server set implicitly, if it reports them. */
  readonly privateKeyTemplateAttribute?: TemplateAttribute;
  readonly publicKeyTemplateAttribute?: TemplateAttribute;
}

const opt = (t: TemplateAttribute | undefined, tag: number): TtlvItem | undefined => (t === undefined ? undefined : encodeTemplateAttribute(t, tag));

export function encodeCreateKeyPairRequest(r: CreateKeyPairRequest): TtlvItem {
  return requestPayload([
    opt(r.common, Tag.CommonTemplateAttribute),
    opt(r.privateKey, Tag.PrivateKeyTemplateAttribute),
    opt(r.publicKey, Tag.PublicKeyTemplateAttribute),
  ]);
}

export function decodeCreateKeyPairRequest(item: TtlvItem | undefined): CreateKeyPairRequest {
  const f = payloadFields(item);
  const common = f.item(Tag.CommonTemplateAttribute);
  const priv = f.item(Tag.PrivateKeyTemplateAttribute);
  const pub = f.item(Tag.PublicKeyTemplateAttribute);
  return {
    ...(common === undefined ? {} : { common: decodeTemplateAttribute(common) }),
    ...(priv === undefined ? {} : { privateKey: decodeTemplateAttribute(priv) }),
    ...(pub === undefined ? {} : { publicKey: decodeTemplateAttribute(pub) }),
  };
}

export function encodeCreateKeyPairResponse(r: CreateKeyPairResponse): TtlvItem {
  return responsePayload([
    ttlv.text(Tag.PrivateKeyUniqueIdentifier, r.privateKeyUniqueIdentifier),
    ttlv.text(Tag.PublicKeyUniqueIdentifier, r.publicKeyUniqueIdentifier),
    opt(r.privateKeyTemplateAttribute, Tag.PrivateKeyTemplateAttribute),
    opt(r.publicKeyTemplateAttribute, Tag.PublicKeyTemplateAttribute),
  ]);
}

export function decodeCreateKeyPairResponse(item: TtlvItem | undefined): CreateKeyPairResponse {
  const f = payloadFields(item);
  const priv = f.item(Tag.PrivateKeyTemplateAttribute);
  const pub = f.item(Tag.PublicKeyTemplateAttribute);
  return {
    privateKeyUniqueIdentifier: f.required(Tag.PrivateKeyUniqueIdentifier, 'TextString'),
    publicKeyUniqueIdentifier: f.required(Tag.PublicKeyUniqueIdentifier, 'TextString'),
    ...(priv === undefined ? {} : { privateKeyTemplateAttribute: decodeTemplateAttribute(priv) }),
    ...(pub === undefined ? {} : { publicKeyTemplateAttribute: decodeTemplateAttribute(pub) }),
  };
}
