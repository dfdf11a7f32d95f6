import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { FetchObserver } from './kek-fetch.js';

/** Key management's Prometheus metrics (served by the platform at /metrics). */
export interface KeyMetrics extends FetchObserver {
  kmsLatency(providerId: string, operation: string, seconds: number): void;
  health(providerId: string, server: string, up: boolean): void;
  pushed(hostId: string, keys: number): void;
}

export function createKeyMetrics(registry: Registry): KeyMetrics {
  // A second key service on the same registry (tests, a restart in-process) reuses the metrics.
  const once = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
  const latency = once('vmcrypt_manager_kms_latency_seconds', () => new Histogram({
    name: 'vmcrypt_manager_kms_latency_seconds',
    help: 'Round trip of KMIP messages to key providers (a batch of Gets counts once)',
    labelNames: ['provider', 'operation'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  }));
  const fetches = once('vmcrypt_manager_key_fetches_total', () => new Counter({
    name: 'vmcrypt_manager_key_fetches_total',
    help: 'KEKs fetched from key providers by result (ok, notFound, error, unreachable)',
    labelNames: ['provider', 'result'],
    registers: [registry],
  }));
  const up = once('vmcrypt_manager_kms_server_up', () => new Gauge({
    name: 'vmcrypt_manager_kms_server_up',
    help: '1 when the key server answered the last health check',
    labelNames: ['provider', 'server'],
    registers: [registry],
  }));
  const pushes = once('vmcrypt_manager_keys_pushed_total', () => new Counter({
    name: 'vmcrypt_manager_keys_pushed_total',
    help: 'KEKs pushed into host key caches',
    registers: [registry],
  }));
  return {
    kmsLatency: (provider, operation, seconds) => latency.observe({ provider, operation }, seconds),
    batch: (provider, seconds) => latency.observe({ provider, operation: 'GetBatch' }, seconds),
    key: (provider, result) => fetches.inc({ provider, result }),
    health: (provider, server, isUp) => up.set({ provider, server }, isUp ? 1 : 0),
    pushed: (_host, n) => pushes.inc(n),
  };
}
