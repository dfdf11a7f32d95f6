import type { EntityRef, InventoryView, KeyRef, KeyService, Platform } from '../contracts.js';
import { ManagerError, notFound } from '../errors.js';
import { resolveOptions, type KeyContext, type KeyServiceOptions } from './context.js';
import { makeCryptoSafe, type CryptoSafeResult } from './crypto-safe.js';
import { HealthMonitor, type ProviderHealthView } from './health-monitor.js';
import { createKek } from './kek-create.js';
import { createKeyMetrics } from './key-metrics.js';
import { keyEntities, keyStatus, type KeyStatus, type KeyUse } from './key-status.js';
import { loadManagerSecret } from './manager-secret.js';
import { ProviderAdmin } from './provider-admin.js';
import { ProviderPool } from './provider-pool.js';
import { ProviderStore } from './provider-store.js';
import { HostUnlocker, type UnlockResult } from './unlock.js';
import { UnlockLoop } from './unlock-loop.js';
import { pushForVm } from './vm-push.js';
import { dropUnneededKeys, pushKeysToNamedHost } from './host-keys.js';

/** Key management as the rest of the manager and its routes use it. */
export interface KeyManagement extends KeyService {
  readonly providers: ProviderAdmin;
  /** Runs the health checks and the unlock loop; `close` stops them. */
  start(): void;
  close(): Promise<void>;
  /** Health of a provider now (checks every server). */
  checkHealth(providerId: string): Promise<ProviderHealthView>;
  /** Unlock VM (vSphere's operator action): the keys of the VM's host are fetched and pushed again. */
  unlockVm(vmId: string, user?: string): Promise<UnlockResult & { readonly vmId: string; readonly locked: boolean }>;
  makeCryptoSafe(hostId: string, opts?: { user?: string; providerId?: string }): Promise<CryptoSafeResult>;
  keyStatus(key: KeyRef): Promise<KeyStatus>;
  keyEntities(key: KeyRef): KeyUse[];
  /** Why a VM is locked, as this manager last saw it (kmsClusterError / keyMissingOnKms). */
  lockReason(vmId: string): string | undefined;
  /** This manager's id, the value of the x-vmcrypt-manager attribute on its keys. */
  readonly managerId: string;
}

export interface KeyServiceDeps {
  readonly platform: Platform;
  readonly inventory: InventoryView;
  readonly options?: KeyServiceOptions;
}

/**
 * Key providers, KEKs, key push, unlock after host restart and crypto-safe hosts. The caller
 * applies KEY_MIGRATIONS to the database first, and calls `start()` when the manager serves.
 */
export function createKeyService(deps: KeyServiceDeps): KeyManagement {
  const opts = deps.options ?? {};
  const { platform, inventory } = deps;
  const store = new ProviderStore(platform.db);
  const secret = loadManagerSecret(platform.dataDir);
  const metrics = createKeyMetrics(platform.metrics);
  const pool = new ProviderPool(store, secret, {
    ...(opts.fetchConnections === undefined ? {} : { fetchConnections: opts.fetchConnections }),
    ...(opts.hungTimeoutMs === undefined ? {} : { hungTimeoutMs: opts.hungTimeoutMs }),
    ...(opts.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: opts.connectTimeoutMs }),
    ...(opts.downRetryMs === undefined ? {} : { downRetryMs: opts.downRetryMs }),
    onFailover: (providerId, f) => platform.log.warn({ provider: providerId, server: f.server, kind: f.kind, code: f.code }, `key server failed over: ${f.message}`),
  });
  const options = resolveOptions(opts);
  let loop: UnlockLoop | undefined;
  const health = new HealthMonitor({
    providerIds: () => store.list().map((p) => p.id),
    check: (id, o) => {
      try {
        return pool.get(id).control.health(o);
      } catch (err) {
        return Promise.reject(err);
      }
    },
    events: platform.events,
    metrics,
    log: platform.log,
    intervalMs: options.healthIntervalMs,
    timeoutMs: options.healthTimeoutMs,
    certExpiringDays: options.certExpiringDays,
    onReachable: () => void loop?.retryNow(),
  });
  const ctx: KeyContext = { platform, inventory, store, pool, health, metrics, options };
  const unlocker = new HostUnlocker(ctx);
  loop = new UnlockLoop(unlocker, inventory, platform.log, options);
  const providers = new ProviderAdmin(ctx, secret);
  const managerId = store.managerId();

  const defaultProviderId = (): string => {
    const id = store.defaultId();
    if (id === undefined) throw new ManagerError('MANAGER_NO_KEY_PROVIDER', 'no default key provider: add a key provider first');
    return id;
  };
  const kek = (spec: { providerId?: string; entity: EntityRef; user?: string }): Promise<KeyRef> => createKek(ctx, defaultProviderId, spec);
  // One crypto-safe operation at a time: pushes to several HA hosts may each find a host not yet
  // safe, and two runs for one host would give it two host keys.
  let safeChain: Promise<unknown> = Promise.resolve();
  const safe = (hostId: string, o: { user?: string; providerId?: string } = {}): Promise<CryptoSafeResult> => {
    const next = safeChain.then(() => makeCryptoSafe(ctx, kek, hostId, o));
    safeChain = next.catch(() => undefined);
    return next;
  };
  let closed = false;

  return {
    providers,
    managerId,
    defaultProviderId,
    createKek: kek,
    pushForVm: (vmId, keys) =>
      pushForVm(ctx, vmId, keys, async (hostId) => {
        await safe(hostId);
      }, unlocker),
    unlockHost: (hostId, user) => unlocker.unlockHost(hostId, user),
    knowsProvider: (providerId) => store.get(providerId) !== undefined,
    pushToHost: (hostId, keys) => pushKeysToNamedHost(ctx, hostId, keys, async (h) => {
      await safe(h);
    }),
    dropUnneeded: (hostId, keys) => dropUnneededKeys(inventory, hostId, keys),
    async unlockVm(vmId, user) {
      const vm = inventory.vm(vmId);
      if (vm === undefined) throw notFound('VM', vmId);
      if (vm.keys.length === 0) throw new ManagerError('MANAGER_CONFLICT', `VM ${vm.name} is not encrypted (rule: only encrypted VMs lock)`);
      const r = await unlocker.unlockHost(vm.hostId, user);
      return { ...r, vmId, locked: r.stillLocked.includes(vmId) };
    },
    makeCryptoSafe: safe,
    keyStatus: (key) => keyStatus(ctx, key),
    keyEntities: (key) => keyEntities(ctx, key),
    lockReason: (vmId) => unlocker.lockReason(vmId),
    checkHealth: (providerId) => {
      store.require(providerId);
      return health.checkOne(providerId);
    },
    start() {
      health.start();
      loop?.start();
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([health.stop(), loop?.stop()]);
      await pool.closeAll();
      secret.fill(0);
    },
  };
}

/** Inventory objects whose keys live in this provider (a provider in use cannot be removed). */
export function providerUse(inventory: InventoryView, providerId: string): number {
  const vms = inventory.listVms().filter((v) => v.keys.some((u) => u.key.providerId === providerId)).length;
  const hosts = inventory.listHosts().filter((h) => h.hostKey?.providerId === providerId).length;
  return vms + hosts;
}

