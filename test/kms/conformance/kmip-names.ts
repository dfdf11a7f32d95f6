import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Names of the KMIP XML encoding (KMIP Profiles 1.4 §6 "XML Encoding"): tags by name, enumeration
 * values by name or `0x…`, masks as space-separated names. The tables come from PyKMIP
 * (kmip-names.json, written by gen-kmip-names.py); names are compared ignoring case and any
 * character that is not a letter or digit (`SHA_256` = `SHA256`, `MACGenerate` = `MacGenerate`).
 */
interface Tables {
  readonly tags: Record<string, number>;
  readonly enums: Record<string, Record<string, number>>;
}

const tables = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'kmip-names.json'), 'utf8')) as Tables;
const norm = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, '');

const tagByName = new Map<string, number>();
const nameByTag = new Map<number, string>();
for (const [name, value] of Object.entries(tables.tags)) {
  tagByName.set(norm(name), value);
  nameByTag.set(value, name);
}

const enumClasses = new Map<string, Map<string, number>>();
for (const [cls, values] of Object.entries(tables.enums)) {
  enumClasses.set(norm(cls), new Map(Object.entries(values).map(([k, v]) => [norm(k), v])));
}
// Spellings of the test cases that differ from PyKMIP's names.
enumClasses.get('cryptographicalgorithm')?.set('des3', 0x02);
enumClasses.get('objecttype')?.set('opaqueobject', 0x08);

const MASKS = new Set(['cryptographicusagemask', 'storagestatusmask', 'protectionstoragemask']);

export function tagOf(name: string): number {
  const t = tagByName.get(norm(name));
  if (t === undefined) throw new Error(`unknown KMIP tag <${name}>`);
  return t;
}

export function tagName(tag: number): string {
  return nameByTag.get(tag) ?? `0x${tag.toString(16)}`;
}

/** The enumeration table of a field: its tag's, or for an Attribute Value its attribute's. */
function enumClassOf(tag: string, attributeName: string | undefined): string {
  return norm(tag) === 'attributevalue' && attributeName !== undefined ? norm(attributeName) : norm(tag);
}

function hex(value: string): number | undefined {
  return /^0x[0-9a-fA-F]{1,8}$/.test(value) ? parseInt(value.slice(2), 16) : undefined;
}

/** An Enumeration value given by name (or `0x…`) in field `tag`. */
export function enumValue(tag: string, value: string, attributeName?: string): number {
  const h = hex(value);
  if (h !== undefined) return h;
  const cls = enumClasses.get(enumClassOf(tag, attributeName));
  const direct = cls?.get(norm(value));
  if (direct !== undefined) return direct;
  if (cls === undefined) {
    for (const c of enumClasses.values()) {
      const v = c.get(norm(value));
      if (v !== undefined) return v;
    }
  }
  throw new Error(`unknown enumeration value ${value} for <${tag}>${attributeName === undefined ? '' : ` (${attributeName})`}`);
}

/** An Integer value: decimal, `0x…`, or mask names separated by spaces. */
export function integerValue(tag: string, value: string, attributeName?: string): number {
  if (/^-?[0-9]+$/.test(value)) return Number(value);
  const h = hex(value);
  if (h !== undefined) return h | 0;
  const clsName = enumClassOf(tag, attributeName);
  const cls = MASKS.has(clsName) ? enumClasses.get(clsName) : undefined;
  if (cls === undefined) throw new Error(`Integer <${tag}> has non-numeric value ${value}`);
  let mask = 0;
  for (const part of value.split(/[\s|]+/).filter((p) => p !== '')) {
    const bit = cls.get(norm(part)) ?? hex(part);
    if (bit === undefined) throw new Error(`unknown mask bit ${part} in <${tag}>`);
    mask |= bit;
  }
  return mask;
}

/** The name of value `value` of enumeration `cls` (e.g. 'Operation'), for reports. */
export function enumName(cls: string, value: number): string {
  for (const [k, v] of Object.entries(tables.enums[cls] ?? {})) if (v === value) return k;
  return `0x${value.toString(16)}`;
}
