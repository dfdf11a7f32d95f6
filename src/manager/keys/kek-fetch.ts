import { getKeyCall, KmipOperationError, type FetchedKey } from '../../kmip/client/index.js';
import { MAX_BATCH_ITEMS } from '../../kmip/client/message.js';
import { KeyProviderError, KeyProviderErrorCode, type KeyProvider } from '../../keyprovider/index.js';
import { chunk, mapLimit } from './key-refs.js';

/** Why one key could not be fetched: the vSphere lock reasons. */
export const FetchFailure = {
  /** No key server of the provider answered (or answered garbage): vm.locked.kmsClusterError. */
  kmsClusterError: 'kmsClusterError',
  /** A server answered that the key does not exist (or is not a usable AES-256 key): vm.locked.keyMissingOnKms. */
  keyMissingOnKms: 'keyMissingOnKms',
} as const;
export type FetchFailure = (typeof FetchFailure)[keyof typeof FetchFailure];

/**
 * Per-key answers that mean the key itself is gone or unusable (not found, destroyed — our KMS
 * says Illegal Operation for that —, archived, no key value); anything else (permission, general
 * failure) is a problem of the key provider, not of the key.
 */
const KEY_GONE_REASONS: ReadonlySet<string> = new Set(['ItemNotFound', 'IllegalOperation', 'ObjectArchived', 'KeyValueNotPresent']);

export interface FetchResult {
  /** keyId → 32 key bytes. The caller zeroes every buffer once pushed. */
  readonly keys: Map<string, Buffer>;
  /** keyId → why it is not in `keys`. */
  readonly failed: Map<string, { readonly kind: FetchFailure; readonly message: string }>;
  /** Set when no server of the provider answered some batch (KEY_PROVIDER_UNREACHABLE): why. */
  readonly unreachable?: string;
}

export interface FetchObserver {
  /** One KMIP message round trip (batch of Gets). */
  batch?(providerId: string, seconds: number, items: number): void;
  /** One key: 'ok', 'notFound', 'error' or 'unreachable'. */
  key?(providerId: string, result: 'ok' | 'notFound' | 'error' | 'unreachable'): void;
}

/**
 * Fetches KEKs by id from one provider in KMIP batches (up to 256 Gets per message, KMIP 1.1
 * §6.13 Continue so that one missing key does not stop the batch), spread over the provider's
 * fetch connections. A batch that no server could answer marks its keys kmsClusterError; the
 * others still count.
 */
export async function fetchKeks(
  providerId: string,
  fetchers: readonly KeyProvider[],
  keyIds: readonly string[],
  observer: FetchObserver = {},
  batchSize: number = MAX_BATCH_ITEMS,
): Promise<FetchResult> {
  const keys = new Map<string, Buffer>();
  const failed = new Map<string, { kind: FetchFailure; message: string }>();
  let unreachable: string | undefined;
  const batches = chunk([...new Set(keyIds)], Math.min(batchSize, MAX_BATCH_ITEMS));
  try {
    await mapLimit(batches, fetchers.length, async (ids, i) => {
      const provider = fetchers[i % fetchers.length] as KeyProvider;
      const started = process.hrtime.bigint();
      let outcomes;
      try {
        outcomes = await provider.run((c) => c.batch(ids.map((id) => getKeyCall(id)), { continueOnError: true }));
      } catch (err) {
        if (err instanceof KeyProviderError && err.code === KeyProviderErrorCode.UNREACHABLE) unreachable = err.message;
        for (const id of ids) {
          failed.set(id, { kind: FetchFailure.kmsClusterError, message: (err as Error).message });
          observer.key?.(providerId, 'unreachable');
        }
        return;
      }
      observer.batch?.(providerId, Number(process.hrtime.bigint() - started) / 1e9, ids.length);
      outcomes.forEach((o, j) => {
        const id = ids[j] as string;
        if (o.ok) accept(id, o.value);
        else reject(id, o.error);
      });
    });
  } catch (err) {
    for (const k of keys.values()) k.fill(0);
    throw err;
  }
  return { keys, failed, ...(unreachable === undefined ? {} : { unreachable }) };

  function accept(id: string, k: FetchedKey): void {
    if (k.material.length !== 32) {
      k.material.fill(0);
      failed.set(id, { kind: FetchFailure.keyMissingOnKms, message: `key ${id} is not a 256-bit key (${k.length} bits)` });
      observer.key?.(providerId, 'error');
      return;
    }
    keys.set(id, k.material);
    observer.key?.(providerId, 'ok');
  }

  function reject(id: string, e: KmipOperationError): void {
    const notFound = KEY_GONE_REASONS.has(e.reason);
    failed.set(id, {
      kind: notFound ? FetchFailure.keyMissingOnKms : FetchFailure.kmsClusterError,
      message: e.message,
    });
    observer.key?.(providerId, notFound ? 'notFound' : 'error');
  }
}
