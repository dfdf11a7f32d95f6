import type { Logger } from 'pino';
import type { InventoryView } from '../contracts.js';
import { mapLimit } from './key-refs.js';
import type { HostUnlocker } from './unlock.js';

export interface UnlockLoopOptions {
  readonly retryIntervalMs: number;
  readonly watchIntervalMs: number;
  readonly hostParallel: number;
}

/**
 * Unlocks without an operator: (1) hosts with VMs still locked are retried every
 * `retryIntervalMs` (the provider may be back); (2) every `watchIntervalMs` each connected
 * host's key cache is compared with what it needs, which finds a restarted host (empty cache)
 * even when nobody reported the restart. A run for a host never overlaps another one.
 */
export class UnlockLoop {
  private retryTimer: NodeJS.Timeout | undefined;
  private watchTimer: NodeJS.Timeout | undefined;
  private stopped = true;
  private readonly runs = new Set<Promise<unknown>>();

  constructor(
    private readonly unlocker: HostUnlocker,
    private readonly inventory: InventoryView,
    private readonly log: Logger,
    private readonly options: UnlockLoopOptions,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.scheduleRetry();
    if (this.options.watchIntervalMs > 0) this.scheduleWatch();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    if (this.watchTimer !== undefined) clearTimeout(this.watchTimer);
    await Promise.allSettled([...this.runs]);
  }

  /** Retries every pending host now (e.g. a provider just came back). */
  retryNow(): Promise<void> {
    return this.track(this.retryPending());
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    this.retryTimer = setTimeout(() => {
      void this.track(this.retryPending()).finally(() => this.scheduleRetry());
    }, this.options.retryIntervalMs).unref();
  }

  private scheduleWatch(): void {
    if (this.stopped) return;
    this.watchTimer = setTimeout(() => {
      void this.track(this.watch()).finally(() => this.scheduleWatch());
    }, this.options.watchIntervalMs).unref();
  }

  private async retryPending(): Promise<void> {
    const hosts = [...this.unlocker.pending].filter((h) => this.inventory.host(h)?.connectionState === 'connected');
    await mapLimit(hosts, this.options.hostParallel, (h) => this.unlockQuietly(h));
  }

  private async watch(): Promise<void> {
    const hosts = this.inventory.listHosts().filter((h) => h.connectionState === 'connected' && !this.unlocker.isBusy(h.id));
    await mapLimit(hosts, this.options.hostParallel, async (h) => {
      try {
        if (this.stopped) return;
        if ((await this.unlocker.missingKeys(h.id)).length > 0) await this.unlockQuietly(h.id);
      } catch (err) {
        this.log.debug({ host: h.id, err: (err as Error).message }, 'key cache check failed');
      }
    });
  }

  private async unlockQuietly(hostId: string): Promise<void> {
    if (this.stopped) return;
    try {
      await this.unlocker.unlockHost(hostId);
    } catch (err) {
      this.log.warn({ host: hostId, err: (err as Error).message }, 'unlock retry failed');
    }
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.runs.add(p);
    void p.finally(() => this.runs.delete(p)).catch(() => undefined);
    return p;
  }
}
