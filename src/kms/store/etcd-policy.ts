import { isRecoverableError, type IOptions } from 'etcd3';

type FaultHandling = NonNullable<IOptions['faultHandling']>;
type GlobalPolicy = NonNullable<FaultHandling['global']>;
type HostPolicy = ReturnType<NonNullable<FaultHandling['host']>>;

/** Error a skipped host raises; not "recoverable", so the pool just moves to the next host. */
export class HostSkippedError extends Error {}

/**
 * etcd3's connection pool asks a per-host policy to run each call. This one skips a host for
 * `skipMs` after it failed with a network/server error (refused, unavailable), so calls go to
 * the live members at once instead of waiting on a dead one. A small circuit breaker written
 * here instead of importing cockatiel (etcd3's own dependency, not ours).
 */
export function skipFailedHostPolicy(skipMs: number): HostPolicy {
  let skipUntil = 0;
  const policy = {
    async execute<T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> {
      if (Date.now() < skipUntil) throw new HostSkippedError('host recently failed; skipped');
      try {
        return await fn({ signal: new AbortController().signal });
      } catch (e) {
        if (e instanceof Error && isRecoverableError(e)) skipUntil = Date.now() + skipMs;
        throw e;
      }
    },
  };
  return policy as unknown as HostPolicy;
}

/** No retries inside etcd3: the store retries itself, because only it knows a write is idempotent. */
export function noRetryPolicy(): GlobalPolicy {
  const policy = {
    async execute<T>(fn: (context: { signal: AbortSignal; attempt: number }) => PromiseLike<T> | T): Promise<T> {
      return fn({ signal: new AbortController().signal, attempt: 0 });
    },
  };
  return policy as unknown as GlobalPolicy;
}
