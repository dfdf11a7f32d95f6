import { setTimeout as sleep } from 'node:timers/promises';
import { EtcdPermissionDeniedError, GRPCInvalidArgumentError, GRPCUnauthenticatedError } from 'etcd3';
import { KmsError, KmsErrorCode } from '../errors.js';

/** How long one store operation may take and what to name when it cannot complete. */
export interface EtcdRetryBudget {
  readonly endpoints: readonly string[];
  /** Retries included, before STORE_UNAVAILABLE. */
  readonly opTimeoutMs: number;
  /** Deadline of one RPC attempt. */
  readonly attemptTimeoutMs: number;
  readonly closed: () => boolean;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Runs one attempt after another until it succeeds, fails for a reason of ours (KmsError) or
 * one a retry cannot fix (etcd refused the request), or opTimeoutMs passes. Each attempt has
 * its own RPC deadline; the pause between attempts grows from 25 ms to 500 ms.
 */
export async function retryEtcd<T>(what: string, budget: EtcdRetryBudget, attempt: (deadline: Date) => Promise<T>): Promise<T> {
  const end = Date.now() + budget.opTimeoutMs;
  let last: unknown;
  for (let n = 0; ; n++) {
    if (budget.closed()) throw new KmsError(KmsErrorCode.STORE_UNAVAILABLE, 'the etcd store is closed');
    const left = end - Date.now();
    if (left <= 0) break;
    try {
      return await attempt(new Date(Date.now() + Math.min(budget.attemptTimeoutMs, left)));
    } catch (e) {
      if (e instanceof KmsError) throw e;
      if (e instanceof GRPCInvalidArgumentError || e instanceof GRPCUnauthenticatedError || e instanceof EtcdPermissionDeniedError) {
        throw new KmsError(KmsErrorCode.STORE_UNAVAILABLE, `etcd refused ${what}: ${message(e)}`, { cause: e });
      }
      last = e;
    }
    await sleep(Math.max(0, Math.min(25 * 2 ** Math.min(n, 5), 500, end - Date.now())));
  }
  throw new KmsError(
    KmsErrorCode.STORE_UNAVAILABLE,
    `etcd cluster ${budget.endpoints.join(',')} did not complete ${what} within ${budget.opTimeoutMs} ms ` +
      `(is a quorum of members up?): ${message(last)}`,
    { cause: last },
  );
}
