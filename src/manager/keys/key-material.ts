import type { KeyRef } from '../contracts.js';
import { ManagerError } from '../errors.js';
import type { KeyContext } from './context.js';
import { fetchKeks, FetchFailure } from './kek-fetch.js';
import { groupByProvider, keyRefId } from './key-refs.js';

export interface KeyFailure {
  readonly kind: FetchFailure;
  readonly message: string;
}

/** Fetched KEK bytes by keyRefId; `zero()` wipes them all (call it in a finally). */
export interface FetchedKeys {
  readonly material: Map<string, { readonly ref: KeyRef; readonly bytes: Buffer }>;
  readonly failed: Map<string, KeyFailure & { readonly ref: KeyRef }>;
  zero(): void;
}

/**
 * Fetches KEKs from their providers (each provider in parallel, KMIP batches within), and
 * tells the health monitor what it learnt: a provider none of whose servers answered is
 * unreachable now (`kms.unreachable` at once, not at the next health check).
 */
export async function fetchKeys(ctx: KeyContext, refs: readonly KeyRef[]): Promise<FetchedKeys> {
  const material = new Map<string, { ref: KeyRef; bytes: Buffer }>();
  const failed = new Map<string, KeyFailure & { ref: KeyRef }>();
  const out: FetchedKeys = {
    material,
    failed,
    zero: () => {
      for (const m of material.values()) m.bytes.fill(0);
      material.clear();
    },
  };
  try {
    await Promise.all(
      [...groupByProvider(refs)].map(async ([providerId, ids]) => {
        let fetchers;
        try {
          fetchers = ctx.pool.get(providerId).fetchers;
        } catch (err) {
          for (const keyId of ids) failed.set(keyRefId({ providerId, keyId }), { ref: { providerId, keyId }, kind: FetchFailure.kmsClusterError, message: (err as Error).message });
          return;
        }
        const r = await fetchKeks(providerId, fetchers, ids, ctx.metrics);
        for (const [keyId, bytes] of r.keys) material.set(keyRefId({ providerId, keyId }), { ref: { providerId, keyId }, bytes });
        for (const [keyId, f] of r.failed) failed.set(keyRefId({ providerId, keyId }), { ref: { providerId, keyId }, ...f });
        if (r.unreachable !== undefined) ctx.health.setReachable(providerId, false, r.unreachable);
        else ctx.health.setReachable(providerId, true, '');
      }),
    );
  } catch (err) {
    out.zero();
    throw err;
  }
  return out;
}

/** The error for a fetch that must fully succeed (push of a new VM's keys, a host key). */
export function fetchError(failures: Iterable<KeyFailure & { ref: KeyRef }>): ManagerError {
  const list = [...failures];
  const first = list[0];
  const missing = list.some((f) => f.kind === FetchFailure.keyMissingOnKms);
  const detail = list.slice(0, 3).map((f) => `key ${f.ref.keyId} of key provider ${f.ref.providerId}: ${f.message}`).join('; ');
  return new ManagerError(
    missing ? 'MANAGER_NOT_FOUND' : 'MANAGER_KMS_UNREACHABLE',
    `${list.length} key(s) could not be fetched${first === undefined ? '' : ` — ${detail}`}`,
  );
}
