/**
 * One fsync shared by many callers: `request()` resolves once a run of `sync` that began after
 * the call has finished (rejects if that run fails). At most one run is in progress and one
 * waits behind it, whatever the number of callers, so every commit of a busy group-commit loop
 * is covered by at most two fsyncs.
 */
export function coalescedSync(sync: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let next: Promise<void> | undefined;
  const request = (): Promise<void> => {
    if (running === undefined) {
      running = sync().finally(() => {
        running = undefined;
      });
      return running;
    }
    // The run in progress may have begun before the caller's data was written: wait for the next.
    next ??= running
      .catch(() => {})
      .then(() => {
        next = undefined;
        return request();
      });
    return next;
  };
  return request;
}
