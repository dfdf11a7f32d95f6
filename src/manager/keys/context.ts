import type { InventoryView, Platform } from '../contracts.js';
import type { HealthMonitor } from './health-monitor.js';
import type { KeyMetrics } from './key-metrics.js';
import type { ProviderPool } from './provider-pool.js';
import type { ProviderStore } from './provider-store.js';

/** Tunables of key management; the defaults are vSphere's or sized for 2,500 hosts. */
export interface KeyServiceOptions {
  /** Health check period per provider (default 60 s; tests ~200 ms). */
  readonly healthIntervalMs?: number;
  /** Answer timeout of one health check (default 10 s). */
  readonly healthTimeoutMs?: number;
  /** `kms.certExpiring` when a key server certificate has this many days left or fewer (default 30). */
  readonly certExpiringDays?: number;
  /** Period of the retry loop for hosts with locked VMs (default 5 s; tests ~200 ms). */
  readonly retryIntervalMs?: number;
  /**
   * Period at which every connected host's key cache is compared with what it needs, so a
   * restarted host is unlocked even before anyone reports it (default 10 s; 0 = off).
   */
  readonly watchIntervalMs?: number;
  /** KMIP connections per provider for bulk Gets (default 4). */
  readonly fetchConnections?: number;
  /** Host pushes in flight per host (default 4), hosts unlocked at once (default 16). */
  readonly pushParallel?: number;
  readonly hostParallel?: number;
  /** Hung-service timeout of providers that set none (default 60 s, vSphere's). */
  readonly hungTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /** How long a failed key server is tried last (default 60 s). */
  readonly downRetryMs?: number;
}

export interface ResolvedOptions {
  readonly healthIntervalMs: number;
  readonly healthTimeoutMs: number;
  readonly certExpiringDays: number;
  readonly retryIntervalMs: number;
  readonly watchIntervalMs: number;
  readonly pushParallel: number;
  readonly hostParallel: number;
}

export function resolveOptions(o: KeyServiceOptions): ResolvedOptions {
  return {
    healthIntervalMs: o.healthIntervalMs ?? 60_000,
    healthTimeoutMs: o.healthTimeoutMs ?? 10_000,
    certExpiringDays: o.certExpiringDays ?? 30,
    retryIntervalMs: o.retryIntervalMs ?? 5_000,
    watchIntervalMs: o.watchIntervalMs ?? 10_000,
    pushParallel: o.pushParallel ?? 4,
    hostParallel: o.hostParallel ?? 16,
  };
}

/** What the pieces of key management share. */
export interface KeyContext {
  readonly platform: Platform;
  readonly inventory: InventoryView;
  readonly store: ProviderStore;
  readonly pool: ProviderPool;
  readonly health: HealthMonitor;
  readonly metrics: KeyMetrics;
  readonly options: ResolvedOptions;
}
