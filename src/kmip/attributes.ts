import { KmipError } from './errors.js';
import { Tag } from './tags.js';
import { Fields, ttlv, type ItemTypeName, type TtlvItem } from './ttlv/index.js';

/**
 * A KMIP 1.x Attribute (KMIP 1.4 §2.1.1): name, optional index, and a value whose type depends
 * on the name. The value is kept as the decoded TTLV item (tag Attribute Value) so any type,
 * including custom `x-…` attributes, passes through unchanged.
 */
export interface Attribute {
  readonly name: string;
  readonly index?: number;
  readonly value: TtlvItem;
}

/** KMIP 1.x Template-Attribute (§2.1.8): template names (unsupported by vmcrypt) and attributes. */
export interface TemplateAttribute {
  readonly templateNames: readonly string[];
  readonly attributes: readonly Attribute[];
}

/** Names of the standard attributes vmcrypt handles (KMIP 1.4 §3), with the TTLV type of their value. */
export const AttributeName = {
  UniqueIdentifier: 'Unique Identifier',
  Name: 'Name',
  ObjectType: 'Object Type',
  CryptographicAlgorithm: 'Cryptographic Algorithm',
  CryptographicLength: 'Cryptographic Length',
  CryptographicParameters: 'Cryptographic Parameters',
  CryptographicUsageMask: 'Cryptographic Usage Mask',
  Digest: 'Digest',
  OperationPolicyName: 'Operation Policy Name',
  LeaseTime: 'Lease Time',
  State: 'State',
  InitialDate: 'Initial Date',
  ActivationDate: 'Activation Date',
  ProcessStartDate: 'Process Start Date',
  ProtectStopDate: 'Protect Stop Date',
  DeactivationDate: 'Deactivation Date',
  DestroyDate: 'Destroy Date',
  CompromiseOccurrenceDate: 'Compromise Occurrence Date',
  CompromiseDate: 'Compromise Date',
  RevocationReason: 'Revocation Reason',
  ArchiveDate: 'Archive Date',
  ObjectGroup: 'Object Group',
  Fresh: 'Fresh',
  Link: 'Link',
  ApplicationSpecificInformation: 'Application Specific Information',
  ContactInformation: 'Contact Information',
  LastChangeDate: 'Last Change Date',
  OriginalCreationDate: 'Original Creation Date',
  Sensitive: 'Sensitive',
  Extractable: 'Extractable',
  AlwaysSensitive: 'Always Sensitive',
  NeverExtractable: 'Never Extractable',
  RandomNumberGenerator: 'Random Number Generator',
  UsageLimits: 'Usage Limits',
} as const;

/** TTLV type of each standard attribute's value. */
export const attributeValueType: Readonly<Record<string, ItemTypeName>> = {
  [AttributeName.UniqueIdentifier]: 'TextString',
  [AttributeName.Name]: 'Structure',
  [AttributeName.ObjectType]: 'Enumeration',
  [AttributeName.CryptographicAlgorithm]: 'Enumeration',
  [AttributeName.CryptographicLength]: 'Integer',
  [AttributeName.CryptographicParameters]: 'Structure',
  [AttributeName.CryptographicUsageMask]: 'Integer',
  [AttributeName.Digest]: 'Structure',
  [AttributeName.OperationPolicyName]: 'TextString',
  [AttributeName.LeaseTime]: 'Interval',
  [AttributeName.State]: 'Enumeration',
  [AttributeName.InitialDate]: 'DateTime',
  [AttributeName.ActivationDate]: 'DateTime',
  [AttributeName.ProcessStartDate]: 'DateTime',
  [AttributeName.ProtectStopDate]: 'DateTime',
  [AttributeName.DeactivationDate]: 'DateTime',
  [AttributeName.DestroyDate]: 'DateTime',
  [AttributeName.CompromiseOccurrenceDate]: 'DateTime',
  [AttributeName.CompromiseDate]: 'DateTime',
  [AttributeName.RevocationReason]: 'Structure',
  [AttributeName.ArchiveDate]: 'DateTime',
  [AttributeName.ObjectGroup]: 'TextString',
  [AttributeName.Fresh]: 'Boolean',
  [AttributeName.Link]: 'Structure',
  [AttributeName.ApplicationSpecificInformation]: 'Structure',
  [AttributeName.ContactInformation]: 'TextString',
  [AttributeName.LastChangeDate]: 'DateTime',
  [AttributeName.OriginalCreationDate]: 'DateTime',
  [AttributeName.Sensitive]: 'Boolean',
  [AttributeName.Extractable]: 'Boolean',
  [AttributeName.AlwaysSensitive]: 'Boolean',
  [AttributeName.NeverExtractable]: 'Boolean',
  [AttributeName.RandomNumberGenerator]: 'Structure',
  [AttributeName.UsageLimits]: 'Structure',
};

/** Custom attributes: `x-…` (client) and `y-…` (server) names (KMIP 1.4 §3.39). */
export function isCustomAttributeName(name: string): boolean {
  return name.startsWith('x-') || name.startsWith('y-');
}

export function encodeAttribute(a: Attribute): TtlvItem {
  return ttlv.struct(Tag.Attribute, [
    ttlv.text(Tag.AttributeName, a.name),
    ttlv.opt(a.index, (i) => ttlv.int(Tag.AttributeIndex, i)),
    { ...a.value, tag: Tag.AttributeValue } as TtlvItem,
  ]);
}

export function decodeAttribute(item: TtlvItem): Attribute {
  const f = new Fields(item, Tag.Attribute);
  const name = f.required(Tag.AttributeName, 'TextString');
  const index = f.optional(Tag.AttributeIndex, 'Integer');
  const value = f.item(Tag.AttributeValue);
  if (value === undefined) throw new KmipError('KMIP_MISSING_FIELD', `attribute '${name}' has no value`);
  const want = attributeValueType[name];
  if (want !== undefined && value.type !== want) {
    throw new KmipError('KMIP_INVALID_FIELD', `attribute '${name}' must be ${want}, got ${value.type}`);
  }
  return index === undefined ? { name, value } : { name, index, value };
}

export function encodeTemplateAttribute(t: TemplateAttribute, tag: number = Tag.TemplateAttribute): TtlvItem {
  return ttlv.struct(tag, [
    t.templateNames.map((n) => nameStruct(Tag.Name, n)),
    t.attributes.map(encodeAttribute),
  ]);
}

export function decodeTemplateAttribute(item: TtlvItem): TemplateAttribute {
  const f = new Fields(item);
  const templateNames = f.structs(Tag.Name).map((n) => n.required(Tag.NameValue, 'TextString'));
  const attributes = f.items.filter((i) => i.tag === Tag.Attribute).map(decodeAttribute);
  return { templateNames, attributes };
}

/** A Name structure (§3.2) under `tag` (Attribute Value inside attributes). */
export function nameStruct(tag: number, value: string, type = 1): TtlvItem {
  return ttlv.struct(tag, [ttlv.text(Tag.NameValue, value), ttlv.enumeration(Tag.NameType, type)]);
}

/** Builders for attribute values of each type. */
export const attr = {
  text: (name: string, v: string): Attribute => ({ name, value: ttlv.text(Tag.AttributeValue, v) }),
  int: (name: string, v: number): Attribute => ({ name, value: ttlv.int(Tag.AttributeValue, v) }),
  enumeration: (name: string, v: number): Attribute => ({ name, value: ttlv.enumeration(Tag.AttributeValue, v) }),
  date: (name: string, v: bigint | Date): Attribute => ({ name, value: ttlv.date(Tag.AttributeValue, v) }),
  bool: (name: string, v: boolean): Attribute => ({ name, value: ttlv.bool(Tag.AttributeValue, v) }),
  name: (v: string, type = 1): Attribute => ({ name: AttributeName.Name, value: nameStruct(Tag.AttributeValue, v, type) }),
};

/** The text of a Name attribute value. */
export function nameValueOf(a: Attribute): string {
  return new Fields(a.value).required(Tag.NameValue, 'TextString');
}
