import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TaskManager } from '../activity/tasks.js';

export interface PlatformMetrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
}

/** The platform's own series; the other parts register theirs on the same registry. */
export function createPlatformMetrics(tasks: () => TaskManager | undefined): PlatformMetrics {
  const registry = new Registry();
  const httpRequests = new Counter({
    name: 'vmcrypt_manager_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'vmcrypt_manager_http_request_duration_seconds',
    help: 'HTTP request duration, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  new Gauge({
    name: 'vmcrypt_manager_tasks',
    help: 'Tasks recorded, by kind and state',
    labelNames: ['kind', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const c of tasks()?.counts() ?? []) this.set({ kind: c.kind, state: c.state }, c.count);
    },
  });
  return { registry, httpRequests, httpDuration };
}
