import { Gauge, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { EntityKind, type EventPoster, type HostConnectionState, type HostGateway, type KeyService } from '../../contracts.js';
import { ManagerError } from '../../errors.js';
import { isHostRefusal } from './host-gateway.js';
import { readHostEvents } from './host-events-feed.js';
import { relayHostEvent } from './host-events.js';
import { parseHostInfo, parseHostVms, type HostInfoReply, type HostVm } from './host-replies.js';
import type { HostStore } from '../store/host-store.js';
import type { VmObserver } from './vm-observer.js';

export interface HostMonitorOptions {
  /** Poll period per host (vCenter's heartbeat); tests use ~200 ms. */
  readonly intervalMs?: number;
  /** Consecutive failed polls before a host is notResponding. */
  readonly failuresBeforeNotResponding?: number;
  /** First wait before asking key management again for a host whose VMs stayed locked; doubles up to maxUnlockRetryMs. */
  readonly unlockRetryMs?: number;
  readonly maxUnlockRetryMs?: number;
}

export interface HostMonitorDeps {
  readonly hosts: HostStore;
  readonly gateway: HostGateway;
  readonly observer: VmObserver;
  readonly keys: () => KeyService;
  readonly events: EventPoster;
  readonly log: Logger;
  readonly metrics: Registry;
}

interface HostWatch {
  failures: number;
  polling: Promise<void> | undefined;
  unlocking: Promise<void> | undefined;
  unlockNotBefore: number;
  unlockBackoff: number;
  /** A restart or reconnect was seen and key management has not yet been asked since. */
  unlockDue: boolean;
}

const STATES: readonly HostConnectionState[] = ['connected', 'notResponding', 'disconnected'];

/**
 * Polls every host (GET /v1/host, /v1/vms, /v1/events): connection state, observed VM state,
 * relayed host events; and when a host comes back with an empty key cache or locked VMs,
 * asks key management to unlock it: one request in flight per host, backing off while VMs
 * stay locked (a KMS that is down is not hammered by every host at once).
 */
export class HostMonitor {
  readonly #d: HostMonitorDeps;
  readonly #interval: number;
  readonly #threshold: number;
  readonly #retry: number;
  readonly #maxRetry: number;
  readonly #watch = new Map<string, HostWatch>();
  readonly #gauge: Gauge;
  #timer: NodeJS.Timeout | undefined;
  #stopped = true;

  constructor(deps: HostMonitorDeps, opts: HostMonitorOptions = {}) {
    this.#d = deps;
    this.#interval = opts.intervalMs ?? 5000;
    this.#threshold = opts.failuresBeforeNotResponding ?? 2;
    this.#retry = opts.unlockRetryMs ?? 2000;
    this.#maxRetry = opts.maxUnlockRetryMs ?? 30_000;
    const existing = deps.metrics.getSingleMetric('vmcrypt_manager_host_connection_state');
    this.#gauge = existing instanceof Gauge ? existing : new Gauge({
      name: 'vmcrypt_manager_host_connection_state',
      help: 'Host connection state (1 for the current state of each host)',
      labelNames: ['host', 'state'],
      registers: [deps.metrics],
    });
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    const loop = (): void => {
      if (this.#stopped) return;
      void this.pollAll().finally(() => {
        if (!this.#stopped) this.#timer = setTimeout(loop, this.#interval);
      });
    };
    this.#timer = setTimeout(loop, 0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const pending = [...this.#watch.values()].flatMap((w) => [w.polling, w.unlocking]).filter((p): p is Promise<void> => p !== undefined);
    await Promise.allSettled(pending);
  }

  /** One round over every host (each host's poll is skipped while its previous one runs). */
  async pollAll(): Promise<void> {
    await Promise.allSettled(this.#d.hosts.list().map((h) => this.poll(h.id)));
  }

  poll(hostId: string): Promise<void> {
    const w = this.#watchOf(hostId);
    if (w.polling !== undefined) return w.polling;
    w.polling = this.#poll(hostId, w).finally(() => {
      w.polling = undefined;
    });
    return w.polling;
  }

  /** Forget a removed host. */
  forget(hostId: string): void {
    this.#watch.delete(hostId);
    for (const s of STATES) this.#gauge.remove({ host: hostId, state: s });
  }

  /** Waits for the current key-management request of this host, if any (tests, shutdown). */
  async settled(hostId: string): Promise<void> {
    await this.#watch.get(hostId)?.unlocking;
  }

  #watchOf(hostId: string): HostWatch {
    let w = this.#watch.get(hostId);
    if (w === undefined) {
      w = { failures: 0, polling: undefined, unlocking: undefined, unlockNotBefore: 0, unlockBackoff: this.#retry, unlockDue: false };
      this.#watch.set(hostId, w);
    }
    return w;
  }

  async #poll(hostId: string, w: HostWatch): Promise<void> {
    const host = this.#d.hosts.host(hostId);
    if (host === undefined || host.connectionState === 'disconnected') return;
    let info: HostInfoReply;
    let vms: HostVm[];
    let restarted: boolean;
    let mark: number;
    try {
      info = parseHostInfo(await this.#d.gateway.call(hostId, 'GET', '/v1/host'));
      mark = this.#d.observer.observationMark();
      vms = parseHostVms(await this.#d.gateway.call(hostId, 'GET', '/v1/vms'));
      const feed = await readHostEvents(this.#d.gateway, hostId, this.#d.hosts.eventCursor(hostId));
      restarted = feed.restarted;
      for (const e of feed.events) {
        const ev = relayHostEvent(hostId, host.name, e, (uuid) => this.#d.observer.knows(uuid));
        if (ev !== undefined) this.#d.events.post(ev);
      }
      this.#d.hosts.setEventCursor(hostId, feed.cursor);
    } catch (err) {
      w.failures++;
      const refused = (isHostRefusal(err) && (err.code === 'HOST_FORBIDDEN' || err.code === 'HOST_NOT_PAIRED'))
        || (err instanceof ManagerError && err.code === 'MANAGER_FORBIDDEN');
      if (refused) this.setState(hostId, 'disconnected', err instanceof Error ? err.message : String(err));
      else if (w.failures >= this.#threshold) this.setState(hostId, 'notResponding', err instanceof Error ? err.message : String(err));
      return;
    }
    w.failures = 0;
    const before = this.setState(hostId, 'connected');
    if (before !== 'connected' || restarted) w.unlockDue = true;
    if (info.cryptoMode !== host.cryptoMode) this.#d.hosts.setCrypto(hostId, info.cryptoMode);
    this.#d.hosts.setMigration(hostId, info.migration);
    this.#d.observer.observeHost(hostId, vms, mark);
    const needsKeys = info.lockedVms.length > 0 || (info.hostKeyId !== undefined && info.hostKeyPresent !== true);
    if (needsKeys || w.unlockDue) this.#maybeUnlock(hostId, w);
  }

  /** Sets the state; posts an event and moves the gauge on a change. Returns the previous state. */
  setState(hostId: string, state: HostConnectionState, why?: string): HostConnectionState | undefined {
    const before = this.#d.hosts.setConnectionState(hostId, state);
    for (const s of STATES) this.#gauge.set({ host: hostId, state: s }, s === state ? 1 : 0);
    if (before !== undefined && before !== state) {
      const name = this.#d.hosts.host(hostId)?.name ?? hostId;
      this.#d.log.info({ host: name, from: before, to: state }, 'host connection state changed');
      this.#d.events.post({
        type: `host.${state}`,
        severity: state === 'connected' ? 'info' : state === 'notResponding' ? 'error' : 'warning',
        message: `host ${name} is ${state === 'notResponding' ? 'not responding' : state}${why === undefined ? '' : `: ${why.slice(0, 300)}`}`,
        entity: { kind: EntityKind.HOST, id: hostId },
        data: { from: before, to: state },
      });
    }
    return before;
  }

  #maybeUnlock(hostId: string, w: HostWatch): void {
    if (w.unlocking !== undefined || Date.now() < w.unlockNotBefore) return;
    w.unlockDue = false;
    w.unlocking = this.#d.keys().unlockHost(hostId)
      .then((r) => {
        // even after a full success the next request waits `retry`: a VM whose key the
        // inventory does not know stays locked, and must not cost a request per poll
        if (r.stillLocked.length === 0) w.unlockBackoff = this.#retry;
        this.#backoff(w);
      })
      .catch((err: unknown) => {
        this.#d.log.warn({ host: hostId, code: (err as { code?: string }).code, err: err instanceof Error ? err.message : String(err) }, 'unlocking the host\'s VMs failed; will retry');
        this.#backoff(w);
      })
      .finally(() => {
        w.unlocking = undefined;
      });
  }

  #backoff(w: HostWatch): void {
    w.unlockNotBefore = Date.now() + w.unlockBackoff;
    w.unlockBackoff = Math.min(w.unlockBackoff * 2, this.#maxRetry);
  }
}
