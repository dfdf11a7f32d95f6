import { createHash } from 'node:crypto';

/**
 * The audit log's hash chain. Each line is the entry's JSON with two more fields, `seq` (1, 2, …
 * across rotated files) and `prev` (the hash of the line before; 64 zeros for the first line
 * ever), and ends with its own `hash`:
 *
 *   {"time":…,"operation":"Get",…,"seq":12,"prev":"<hex>","hash":"<hex>"}
 *   hash = SHA-256 of the line's bytes up to `,"hash"` followed by "}"  (the body)
 *
 * An edited line no longer matches its hash; a removed or reordered line breaks `seq` and `prev`
 * of the next. Anyone may verify (no key needed); an attacker who rewrites the whole chain from
 * an edit onwards is caught against a head recorded elsewhere (`kms audit verify` prints it).
 */
export const GENESIS = '0'.repeat(64);
const HASH_SUFFIX = /,"hash":"([0-9a-f]{64})"\}$/;

export interface ChainState {
  readonly seq: number;
  readonly hash: string;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The chained line (without newline) for `entry`, and the chain state after it. */
export function chainLine(entry: object, state: ChainState): { line: string; state: ChainState } {
  const seq = state.seq + 1;
  const body = JSON.stringify({ ...entry, seq, prev: state.hash });
  const hash = sha256Hex(body);
  return { line: `${body.slice(0, -1)},"hash":"${hash}"}`, state: { seq, hash } };
}

export type LineCheck =
  | { readonly kind: 'chained'; readonly seq: number; readonly prev: string; readonly hash: string; readonly selfOk: boolean }
  | { readonly kind: 'unchained' };

/** Parses one line's chain fields and checks its own hash (bounded: lines over 64 KiB are not audit lines). */
export function checkLine(line: string): LineCheck {
  if (line.length > 65536) return { kind: 'unchained' };
  const m = HASH_SUFFIX.exec(line);
  if (m === null || m[1] === undefined) return { kind: 'unchained' };
  const body = `${line.slice(0, m.index)}}`;
  let v: { seq?: unknown; prev?: unknown };
  try {
    v = JSON.parse(body) as { seq?: unknown; prev?: unknown };
  } catch {
    return { kind: 'unchained' };
  }
  if (typeof v.seq !== 'number' || typeof v.prev !== 'string') return { kind: 'unchained' };
  return { kind: 'chained', seq: v.seq, prev: v.prev, hash: m[1], selfOk: sha256Hex(body) === m[1] };
}
