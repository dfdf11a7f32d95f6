/**
 * Operations on one VM run one after the other (a second one waits for the first); operations
 * on different VMs run in parallel, at most `perHost` at once on one host (each rewrites whole
 * disks on the host: more would only split its disk bandwidth and CPU). In memory: after a
 * manager restart nothing is running, and the reconcile path resumes from the recorded step.
 */
export class OpLocks {
  readonly #perHost: number;
  readonly #vmTail = new Map<string, Promise<unknown>>();
  readonly #hostActive = new Map<string, number>();
  readonly #hostWaiters = new Map<string, Array<() => void>>();

  constructor(perHost = 2) {
    if (!Number.isSafeInteger(perHost) || perHost < 1) throw new RangeError('perHost must be a positive integer');
    this.#perHost = perHost;
  }

  /** True when an operation holds or waits for this VM. */
  busy(vmId: string): boolean {
    return this.#vmTail.has(vmId);
  }

  /** Runs `fn` after every earlier operation on the VM, holding one of its host's slots. */
  async run<T>(vmId: string, hostId: () => string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#vmTail.get(vmId) ?? Promise.resolve();
    const mine = prev.catch(() => undefined).then(async () => {
      const host = hostId();
      await this.#acquire(host);
      try {
        return await fn();
      } finally {
        this.#release(host);
      }
    });
    this.#vmTail.set(vmId, mine);
    try {
      return await mine;
    } finally {
      if (this.#vmTail.get(vmId) === mine) this.#vmTail.delete(vmId);
    }
  }

  async #acquire(host: string): Promise<void> {
    const active = this.#hostActive.get(host) ?? 0;
    if (active < this.#perHost) {
      this.#hostActive.set(host, active + 1);
      return;
    }
    await new Promise<void>((resolve) => {
      const q = this.#hostWaiters.get(host) ?? [];
      q.push(resolve);
      this.#hostWaiters.set(host, q);
    });
  }

  #release(host: string): void {
    const q = this.#hostWaiters.get(host);
    const next = q?.shift();
    if (next !== undefined) {
      next(); // the slot passes straight to the next waiter
      return;
    }
    this.#hostActive.set(host, (this.#hostActive.get(host) ?? 1) - 1);
  }
}
