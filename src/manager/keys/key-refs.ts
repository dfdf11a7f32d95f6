import type { KeyRef } from '../contracts.js';

/** One string per key for maps and sets: a key id is unique only within its provider. */
export function keyRefId(ref: KeyRef): string {
  return `${ref.providerId}\u0000${ref.keyId}`;
}

export function keyRefLabel(ref: KeyRef): string {
  return `key ${ref.keyId} of key provider ${ref.providerId}`;
}

/** Distinct keys, first occurrence kept. */
export function distinctKeys(refs: Iterable<KeyRef>): KeyRef[] {
  const seen = new Map<string, KeyRef>();
  for (const r of refs) if (!seen.has(keyRefId(r))) seen.set(keyRefId(r), { providerId: r.providerId, keyId: r.keyId });
  return [...seen.values()];
}

/** Key ids per provider, each id once, in first-seen order. */
export function groupByProvider(refs: Iterable<KeyRef>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of distinctKeys(refs)) {
    const ids = out.get(r.providerId) ?? [];
    ids.push(r.keyId);
    out.set(r.providerId, ids);
  }
  return out;
}

/** Consecutive slices of at most `size` items (the KMIP batch and host push limits). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunk size must be a positive integer, not ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Runs `fn` on every item with at most `limit` running at once; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i] as T, i);
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return out;
}
