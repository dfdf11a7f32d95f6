import type { TtlvItem } from '../../../src/kmip/ttlv/index.js';
import { tagName, tagOf } from './kmip-names.js';
import type { XmlNode } from './xml.js';
import { attributeNameOf, leafValue, nowOffset, type Bindings } from './xml-ttlv.js';

/**
 * Compares an actual TTLV response with the expected XML of a test case, field by field, in order.
 * Not compared (the values the test cases mark variable, or a vendor's own):
 *  - `$NOW` (any DateTime) and `$NAME` placeholders: bound to the actual value on first sight
 *    (a later request or response uses the bound value; a second sight must be equal);
 *  - Result Message text (free text of the reference server; present or not);
 *  - Located Items when the case has none (KMIP 1.4 §4.9 lets a server send it anyway);
 *  - the value of a Random Number Generator attribute (it names the server's own generator);
 *  - what a Query answers about the server (operations, object types, vendor, server information):
 *    replay.ts checks that the operations the test case uses are listed;
 *  - ByteStrings when `variableBytes` (responses about a key the server generated: its material,
 *    digest and what it computed with it are random per run).
 * Attributes of Get Attributes and names of Get Attribute List are matched in any order (KMIP
 * orders neither). Everything else — tags, types, enumerations, integers, texts, fixed dates, presence and order
 * of fields — must be equal.
 */
export interface CompareContext {
  readonly vars: Bindings;
  readonly variableBytes: boolean;
}

const IGNORED = new Set([tagOf('ResultMessage')]);
/** KMIP does not order the attributes of Get Attributes nor the names of Get Attribute List. */
const LOCATED_ITEMS = tagOf('LocatedItems');
/**
 * Attributes whose value describes the server that answers (KMIP 1.4 §3.44: the Random Number
 * Generator "SHALL be set by the server depending on which random number generator was used"):
 * present, a structure, but not compared with the reference server's.
 */
const SERVER_SPECIFIC = new Set(['Random Number Generator']);
const QUERY_FIELDS = new Set(['Operation', 'ObjectType', 'VendorIdentification', 'ServerInformation', 'ApplicationNamespace', 'ExtensionInformation'].map(tagOf));
const UNORDERED = new Set([tagOf('Attribute'), tagOf('AttributeName')]);

function show(v: TtlvItem['value']): string {
  if (Buffer.isBuffer(v)) return v.length > 24 ? `${v.subarray(0, 24).toString('hex')}…(${v.length} B)` : v.toString('hex');
  return String(v);
}

function same(a: TtlvItem['value'], b: TtlvItem['value']): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return a === b;
}

export function compareResponse(expected: XmlNode, actual: TtlvItem, ctx: CompareContext): string[] {
  const diffs: string[] = [];
  walk(expected, actual, ctx, expected.name, undefined, diffs);
  return diffs;
}

function walk(exp: XmlNode, act: TtlvItem, ctx: CompareContext, path: string, attributeName: string | undefined, diffs: string[]): void {
  const tag = tagOf(exp.name);
  if (act.tag !== tag) {
    diffs.push(`${path}: expected <${exp.name}>, got <${tagName(act.tag)}>`);
    return;
  }
  const type = exp.attrs['type'] ?? 'Structure';
  if (act.type !== type) {
    diffs.push(`${path}: expected type ${type}, got ${act.type}`);
    return;
  }
  if (act.type === 'Structure') {
    const inner = exp.name === 'Attribute' ? attributeNameOf(exp) : attributeName;
    if (exp.name === 'AttributeValue' && attributeName !== undefined && SERVER_SPECIFIC.has(attributeName)) return;
    let e = exp.children.filter((c) => !IGNORED.has(tagOf(c.name)));
    let a = act.value.filter((c) => !IGNORED.has(c.tag));
    // KMIP 1.4 §4.9: "A server MAY elect to return the Located Items value even if Offset Items
    // is not present in the Request": when the case has none, one in the answer is not a difference.
    if (exp.name === 'ResponsePayload' && !e.some((c) => c.name === 'LocatedItems')) a = a.filter((c) => c.tag !== LOCATED_ITEMS);
    if (exp.name === 'ResponsePayload' && e.some((c) => c.name === 'VendorIdentification' || c.name === 'Operation')) {
      // A Query answer describes the server that gives it (its operations, object types, vendor):
      // replay.ts checks instead that it lists every operation the test case uses.
      e = e.filter((c) => !QUERY_FIELDS.has(tagOf(c.name)));
      a = a.filter((c) => !QUERY_FIELDS.has(c.tag));
    }
    if (exp.name === 'ResponsePayload') {
      matchUnordered(e.filter((c) => UNORDERED.has(tagOf(c.name))), a.filter((c) => UNORDERED.has(c.tag)), ctx, path, inner, diffs);
      e = e.filter((c) => !UNORDERED.has(tagOf(c.name)));
      a = a.filter((c) => !UNORDERED.has(c.tag));
    }
    const n = Math.min(e.length, a.length);
    for (let i = 0; i < n; i++) {
      const ec = e[i];
      const ac = a[i];
      if (ec === undefined || ac === undefined) break;
      const before = diffs.length;
      walk(ec, ac, ctx, `${path}/${ec.name}`, inner, diffs);
      if (diffs.length > before && ac.tag !== tagOf(ec.name)) break; // out of step: one report is enough
    }
    if (e.length !== a.length) {
      const names = (xs: readonly string[]): string => xs.join(', ') || 'nothing';
      diffs.push(
        `${path}: expected ${e.length} fields (${names(e.map((c) => c.name))}), got ${a.length} (${names(a.map((c) => tagName(c.tag)))})`,
      );
    }
    return;
  }
  const raw = exp.attrs['value'] ?? '';
  if (nowOffset(raw) !== undefined) return;
  if (raw.startsWith('$')) {
    const key = raw.slice(1);
    const bound = ctx.vars.get(key);
    if (bound === undefined) ctx.vars.set(key, act.value);
    else if (!same(bound, act.value)) diffs.push(`${path}: ${raw} was ${show(bound)}, now ${show(act.value)}`);
    return;
  }
  if (act.type === 'ByteString' && ctx.variableBytes) return;
  let want: TtlvItem['value'];
  try {
    want = leafValue(type, raw, exp.name, attributeName);
  } catch (err) {
    diffs.push(`${path}: ${(err as Error).message}`);
    return;
  }
  if (act.type === 'BigInteger' && Buffer.isBuffer(want)) {
    const strip = (b: Buffer): string => b.toString('hex').replace(/^(00)+/, '');
    if (strip(want) !== strip(act.value)) diffs.push(`${path}: expected ${show(want)}, got ${show(act.value)}`);
    return;
  }
  if (!same(want, act.value)) diffs.push(`${path}: expected ${raw.length > 60 ? show(want) : raw}, got ${show(act.value)}`);
}

function label(n: XmlNode): string {
  return n.name === 'Attribute' ? `Attribute '${attributeNameOf(n) ?? '?'}'` : `${n.name} '${n.attrs['value'] ?? ''}'`;
}

function actualLabel(t: TtlvItem): string {
  if (t.type === 'TextString') return `${tagName(t.tag)} '${t.value}'`;
  const name = t.type === 'Structure' ? t.value.find((c) => c.tag === tagOf('AttributeName')) : undefined;
  return `${tagName(t.tag)} '${name?.type === 'TextString' ? name.value : '?'}'`;
}

/** Each expected field must match a distinct actual one, in any order; none may be left over. */
function matchUnordered(e: readonly XmlNode[], a: readonly TtlvItem[], ctx: CompareContext, path: string, attributeName: string | undefined, diffs: string[]): void {
  const left = [...a];
  for (const ec of e) {
    const j = left.findIndex((ac) => {
      const trial: string[] = [];
      walk(ec, ac, { ...ctx, vars: new Map(ctx.vars) }, path, attributeName, trial);
      return trial.length === 0;
    });
    if (j < 0) {
      const near = left.find((ac) => actualLabel(ac) === label(ec));
      if (near === undefined) diffs.push(`${path}: missing ${label(ec)}`);
      else walk(ec, near, ctx, `${path}/${label(ec)}`, attributeName, diffs);
      if (near !== undefined) left.splice(left.indexOf(near), 1);
      continue;
    }
    const [ac] = left.splice(j, 1);
    if (ac !== undefined) walk(ec, ac, ctx, path, attributeName, diffs);
  }
  for (const ac of left) diffs.push(`${path}: unexpected ${actualLabel(ac)}`);
}
