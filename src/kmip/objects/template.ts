import { decodeAttribute, encodeAttribute, type Attribute } from '../attributes.js';
import { KmipError } from '../errors.js';
import { Tag } from '../tags.js';
import { Fields, ttlv, type TtlvItem } from '../ttlv/index.js';

/** Most attributes one template may hold (a Create template has the same bound). */
export const MAX_TEMPLATE_ATTRIBUTES = 256;

/**
 * A Template object (KMIP 1.0–1.2 §2.2.6; deprecated in 1.3): attributes that a Create, Create
 * Key Pair or Register names (Template-Attribute's Name) instead of sending them. Not secret.
 */
export interface Template {
  readonly attributes: readonly Attribute[];
}

export function encodeTemplate(t: Template): TtlvItem {
  return ttlv.struct(Tag.Template, t.attributes.map(encodeAttribute));
}

export function decodeTemplate(item: TtlvItem): Template {
  const f = new Fields(item, Tag.Template);
  const attrs = f.items.filter((i) => i.tag === Tag.Attribute);
  if (attrs.length === 0) throw new KmipError('KMIP_MISSING_FIELD', 'a Template holds at least one Attribute');
  if (attrs.length > MAX_TEMPLATE_ATTRIBUTES) throw new KmipError('KMIP_INVALID_FIELD', `more than ${MAX_TEMPLATE_ATTRIBUTES} attributes in a Template`);
  return { attributes: attrs.map(decodeAttribute) };
}
