import { AttributeName as A, nameValueOf, type Attribute, type TemplateAttribute } from '../../kmip/attributes.js';
import { ObjectType, State } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import { decodeTemplate } from '../../kmip/objects/template.js';
import { decodeTtlv } from '../../kmip/ttlv/index.js';
import { allowsMultipleInstances, canSetOnCreate, isKnownAttribute, serverManaged } from '../attribute-rules.js';
import type { OpContext } from '../context.js';
import { enumValue, instancesOf, toManagedObject } from '../managed-object.js';

/** Most templates one Template-Attribute may name. */
const MAX_TEMPLATE_NAMES = 16;

/**
 * The attributes of a Template-Attribute (KMIP 1.x §2.1.8): those of the Template objects it
 * names (by their Name, among the caller's own templates that are not destroyed), in the order
 * named, overridden by the attributes it carries. A single-instance attribute given twice keeps
 * the later one; multi-instance ones (Object Group, Link, …) add up. A template's Name instances
 * are not inherited: they name the template, and a Name should identify one object.
 */
export async function resolveTemplateAttribute(ctx: OpContext, ta: TemplateAttribute): Promise<Attribute[]> {
  if (ta.templateNames.length === 0) return [...ta.attributes];
  if (ta.templateNames.length > MAX_TEMPLATE_NAMES) throw new KmipError('KMIP_INVALID_FIELD', `more than ${MAX_TEMPLATE_NAMES} template names`);
  const layers: (readonly Attribute[])[] = [];
  for (const name of ta.templateNames) layers.push(await templateAttributes(ctx, name));
  layers.push(ta.attributes);
  return mergeAttributeLayers(layers);
}

/** Later layers override earlier ones for single-instance attributes; multi-instance ones accumulate. */
export function mergeAttributeLayers(layers: readonly (readonly Attribute[])[]): Attribute[] {
  let out: Attribute[] = [];
  for (const layer of layers) {
    const replaced = new Set(layer.filter((a) => !allowsMultipleInstances(a.name)).map((a) => a.name));
    out = [...out.filter((a) => !replaced.has(a.name)), ...layer];
  }
  return out;
}

async function templateAttributes(ctx: OpContext, name: string): Promise<readonly Attribute[]> {
  // A scan of the caller's own objects: templates are few, and KMIP 1.3 deprecated them.
  for (const record of await ctx.deps.store.list({ owner: ctx.identity })) {
    if (record.sealedKey === null || !record.attributes.includes(Buffer.from(name, 'utf8').toString('hex'))) continue;
    const obj = toManagedObject(record);
    if (enumValue(obj.attributes, A.ObjectType) !== ObjectType.Template) continue;
    const state = enumValue(obj.attributes, A.State);
    if (state === State.Destroyed || state === State.DestroyedCompromised) continue;
    if (!instancesOf(obj.attributes, A.Name).some((n) => nameValueOf(n) === name)) continue;
    const plain = ctx.deps.sealer.unseal(record.id, record.sealedKey);
    try {
      return decodeTemplate(decodeTtlv(plain)).attributes.filter((a) => a.name !== A.Name);
    } finally {
      plain.fill(0);
    }
  }
  throw new KmipError('KMIP_ITEM_NOT_FOUND', `no Template named '${name}'`);
}

/** The attributes a Template object may hold: those a client may set on Create/Register. */
export function checkTemplateContent(attributes: readonly Attribute[]): void {
  for (const a of attributes) {
    if (serverManaged.has(a.name) || !isKnownAttribute(a.name) || !canSetOnCreate(a.name)) {
      throw new KmipError('KMIP_INVALID_FIELD', `attribute '${a.name}' cannot be in a Template`);
    }
  }
}
