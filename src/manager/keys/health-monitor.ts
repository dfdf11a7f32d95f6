import type { Logger } from 'pino';
import type { ProviderHealth } from '../../keyprovider/index.js';
import type { EntityRef, EventPoster } from '../contracts.js';
import { EntityKind } from '../contracts.js';
import type { KeyMetrics } from './key-metrics.js';

/** vSphere's KMS health colours: all servers fine / some trouble but one answers / none answers. */
export type HealthColor = 'green' | 'yellow' | 'red';

export interface ProviderHealthView extends ProviderHealth {
  readonly color: HealthColor;
  readonly checkedAt: string;
}

export interface HealthMonitorDeps {
  readonly providerIds: () => string[];
  readonly check: (providerId: string, opts: { timeoutMs: number; expiryWarningDays: number }) => Promise<ProviderHealth>;
  readonly events: EventPoster;
  readonly metrics: KeyMetrics;
  readonly log: Logger;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly certExpiringDays: number;
  /** Told when a provider answers again after being unreachable (the unlock retry runs at once). */
  readonly onReachable?: (providerId: string) => void;
}

interface Tracked {
  color?: HealthColor;
  reachable?: boolean;
  /** "server fingerprint" pairs already warned about, so one expiring certificate warns once. */
  readonly certWarned: Set<string>;
  last?: ProviderHealthView;
}

/**
 * Periodic health checks of every server of every key provider. Events on change only:
 * `kms.health` (the alarm's colour), `kms.unreachable` (critical, no server answers) and
 * `kms.reachable`, and one `kms.certExpiring` warning per server certificate.
 */
export class HealthMonitor {
  private readonly state = new Map<string, Tracked>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly deps: HealthMonitorDeps) {}

  start(): void {
    if (this.timer !== undefined) return;
    const tick = (): void => {
      void this.checkAll().finally(() => {
        if (this.timer !== undefined) this.timer = setTimeout(tick, this.deps.intervalMs).unref();
      });
    };
    this.timer = setTimeout(tick, 0).unref();
  }

  async stop(): Promise<void> {
    const t = this.timer;
    this.timer = undefined;
    if (t !== undefined) clearTimeout(t);
    await this.running;
  }

  /** The last health seen (undefined before the first check). */
  last(providerId: string): ProviderHealthView | undefined {
    return this.state.get(providerId)?.last;
  }

  /** false once a check or a fetch found no server answering; true once one answered. */
  reachable(providerId: string): boolean | undefined {
    return this.state.get(providerId)?.reachable;
  }

  forget(providerId: string): void {
    this.state.delete(providerId);
  }

  checkAll(): Promise<void> {
    if (this.running !== undefined) return this.running;
    this.running = (async () => {
      for (const id of this.deps.providerIds()) await this.checkOne(id).catch((err: unknown) => this.deps.log.warn({ provider: id, err: (err as Error).message }, 'key provider health check failed'));
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async checkOne(providerId: string): Promise<ProviderHealthView> {
    const h = await this.deps.check(providerId, { timeoutMs: this.deps.timeoutMs, expiryWarningDays: this.deps.certExpiringDays });
    const answering = h.servers.filter((s) => s.status !== 'error').length;
    const color: HealthColor = answering === 0 ? 'red' : h.status === 'ok' ? 'green' : 'yellow';
    const view: ProviderHealthView = { ...h, color, checkedAt: new Date().toISOString() };
    const t = this.tracked(providerId);
    t.last = view;
    for (const s of h.servers) {
      this.deps.metrics.health(providerId, s.name, s.status !== 'error');
      if (s.status !== 'error' && s.latencyMs !== undefined) this.deps.metrics.kmsLatency(providerId, 'DiscoverVersions', s.latencyMs / 1000);
      const c = s.certificate;
      if (c !== undefined && c.daysLeft <= this.deps.certExpiringDays && !t.certWarned.has(`${s.name} ${c.sha256Fingerprint}`)) {
        t.certWarned.add(`${s.name} ${c.sha256Fingerprint}`);
        this.deps.events.post({
          type: 'kms.certExpiring',
          severity: 'warning',
          entity: ref(providerId),
          message: `the certificate of key server ${s.name} (${s.server}) of key provider ${providerId} ${c.daysLeft < 0 ? 'has expired' : `expires in ${c.daysLeft} days`} (${c.notAfter})`,
          data: { providerId, server: s.name, daysLeft: c.daysLeft, notAfter: c.notAfter },
        });
      }
    }
    if (t.color !== color) {
      t.color = color;
      const down = h.servers.filter((s) => s.status === 'error').map((s) => s.name);
      this.deps.events.post({
        type: 'kms.health',
        severity: color === 'green' ? 'info' : color === 'yellow' ? 'warning' : 'critical',
        entity: ref(providerId),
        message: `key provider ${providerId} health is ${color}: ${answering} of ${h.servers.length} key servers answer${down.length === 0 ? '' : ` (down: ${down.join(', ')})`}`,
        data: { providerId, status: color, answering, servers: h.servers.length },
      });
    }
    this.setReachable(providerId, answering > 0, answering > 0 ? '' : h.servers.map((s) => `${s.name}: ${s.error?.message ?? s.status}`).join('; '));
    return view;
  }

  /** Called by key fetches too, so an outage seen during an unlock is reported at once. */
  setReachable(providerId: string, reachable: boolean, why: string): void {
    const t = this.tracked(providerId);
    if (t.reachable === reachable) return;
    const was = t.reachable;
    t.reachable = reachable;
    if (!reachable) {
      this.deps.events.post({
        type: 'kms.unreachable',
        severity: 'critical',
        entity: ref(providerId),
        message: `key provider ${providerId} is unreachable: no key server answers (${why.slice(0, 1000)})`,
        data: { providerId },
      });
    } else if (was === false) {
      this.deps.events.post({
        type: 'kms.reachable',
        severity: 'info',
        entity: ref(providerId),
        message: `key provider ${providerId} is reachable again`,
        data: { providerId },
      });
      this.deps.onReachable?.(providerId);
    }
  }

  private tracked(id: string): Tracked {
    let t = this.state.get(id);
    if (t === undefined) {
      t = { certWarned: new Set() };
      this.state.set(id, t);
    }
    return t;
  }
}

function ref(id: string): EntityRef {
  return { kind: EntityKind.KEY_PROVIDER, id };
}
