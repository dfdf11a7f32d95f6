import { AttributeName, type Attribute } from '../../kmip/attributes.js';
import type { KeyRecord } from '../store/types.js';
import { entryOf, lookupKey, type IndexEntry } from './index-entry.js';

/** What a Locate asks (KMIP 1.4 §4.9), after the handler checked its bounds. */
export interface LocateQuery {
  readonly identity: string;
  readonly attributes: readonly Attribute[];
  /** Destroyed objects are left out unless the filter names a State. */
  readonly includeDestroyed: boolean;
}

/** Matches, own objects first then granted ones, each newest first. */
export interface LocateMatches {
  readonly own: readonly string[];
  readonly granted: readonly string[];
}

/**
 * An in-memory index of every object's Locate keys, kept in the KMS process: per identity the
 * objects it may read (owner or grantee), per attribute value (`name \0 value`) the objects that
 * carry it. A Locate intersects the posting sets of its equality filters, starting from the
 * smallest, then checks date ranges and usage-mask bits on the few candidates left: it never
 * decodes a stored record. Kept current by IndexedKeyStore on every write.
 */
export class LocateIndex {
  readonly #entries = new Map<string, IndexEntry>();
  readonly #postings = new Map<string, Posting>();
  readonly #visible = new Map<string, Set<string>>();
  #nextSeq = 0;

  get size(): number {
    return this.#entries.size;
  }

  /**
   * Adds or replaces the object of `record`. A record whose attributes do not decode is left out
   * (its older entry removed): Locate skips it, as it skips records the integrity layer refuses.
   */
  put(record: KeyRecord): void {
    const old = this.#entries.get(record.id);
    if (old !== undefined && old.version > record.version) return;
    if (old !== undefined) this.#unlink(old);
    let entry: IndexEntry;
    try {
      entry = entryOf(record, old?.seq ?? this.#nextSeq++);
    } catch {
      this.#entries.delete(record.id);
      return;
    }
    // Each entry keeps the posting's own key string: one copy per distinct value, not per object.
    const keys = entry.keys.map((k) => this.#post(k, entry.id));
    this.#entries.set(entry.id, { ...entry, keys });
    for (const who of [entry.owner, ...entry.grantees]) add(this.#visible, who, entry.id);
  }

  #post(key: string, id: string): string {
    let p = this.#postings.get(key);
    if (p === undefined) this.#postings.set(key, (p = new Posting(key)));
    p.add(id);
    return p.key;
  }

  #unlink(e: IndexEntry): void {
    for (const k of e.keys) remove(this.#postings, k, e.id);
    for (const who of [e.owner, ...e.grantees]) remove(this.#visible, who, e.id);
  }

  locate(q: LocateQuery): LocateMatches {
    const byName = new Map<string, Attribute[]>();
    for (const a of q.attributes) byName.set(a.name, [...(byName.get(a.name) ?? []), a]);
    const sets: Set<string>[] = [this.#visible.get(q.identity) ?? new Set()];
    const checks: ((e: IndexEntry) => boolean)[] = [];
    for (const [name, wanted] of byName) {
      const range = dateRange(wanted) ?? sameDates(wanted);
      if (range !== undefined) {
        checks.push((e) => (e.dates.get(name) ?? []).some((d) => d >= range[0] && d <= range[1]));
      } else if (name === AttributeName.CryptographicUsageMask) {
        const bits = wanted.reduce((m, w) => m | (w.value.type === 'Integer' ? w.value.value : 0), 0);
        checks.push((e) => e.usageMask !== undefined && (e.usageMask & bits) === bits);
      } else if (name === AttributeName.UniqueIdentifier) {
        for (const w of wanted) sets.push(new Set(w.value.type === 'TextString' && this.#entries.has(w.value.value) ? [w.value.value] : []));
      } else {
        for (const w of wanted) sets.push(this.#postings.get(lookupKey(w)) ?? new Set());
      }
    }
    sets.sort((a, b) => a.size - b.size);
    const [smallest, ...others] = sets;
    const own: IndexEntry[] = [];
    const granted: IndexEntry[] = [];
    for (const id of smallest ?? []) {
      if (!others.every((s) => s.has(id))) continue;
      const e = this.#entries.get(id);
      if (e === undefined || (e.destroyed && !q.includeDestroyed) || !checks.every((c) => c(e))) continue;
      (e.owner === q.identity ? own : granted).push(e);
    }
    const newestFirst = (xs: IndexEntry[]): string[] => xs.sort((a, b) => b.seq - a.seq).map((e) => e.id);
    return { own: newestFirst(own), granted: newestFirst(granted) };
  }
}

/** The ids carrying one attribute value, and that value's key. */
class Posting extends Set<string> {
  constructor(readonly key: string) {
    super();
  }
}

/** Two DateTime instances of one attribute: the inclusive range between them (§4.9). */
function dateRange(wanted: readonly Attribute[]): [bigint, bigint] | undefined {
  const [a, b] = wanted;
  if (wanted.length !== 2 || a?.value.type !== 'DateTime' || b?.value.type !== 'DateTime') return undefined;
  return a.value.value <= b.value.value ? [a.value.value, b.value.value] : [b.value.value, a.value.value];
}

/** One or more instances of a DateTime attribute (not a range): objects having each of those dates. */
function sameDates(wanted: readonly Attribute[]): [bigint, bigint] | undefined {
  const d = wanted.map((w) => (w.value.type === 'DateTime' ? w.value.value : undefined));
  const first = d[0];
  if (first === undefined || d.some((x) => x !== first)) return undefined; // mixed or differing: an empty range below
  return [first, first];
}

function add(m: Map<string, Set<string>>, k: string, id: string): void {
  let s = m.get(k);
  if (s === undefined) m.set(k, (s = new Set()));
  s.add(id);
}

function remove(m: Map<string, Set<string>>, k: string, id: string): void {
  const s = m.get(k);
  if (s === undefined) return;
  s.delete(id);
  if (s.size === 0) m.delete(k);
}
