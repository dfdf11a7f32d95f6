import { describe, expect, it } from 'vitest';
import BetterSqlite3 from 'better-sqlite3';
import pino from 'pino';
import { Registry } from 'prom-client';
import { KeyProviderError, type KeyProvider } from '../../../src/keyprovider/index.js';
import { KmipOperationError, type OpCall } from '../../../src/kmip/client/index.js';
import type { EventInput, HostGateway, ManagerEvent, Platform } from '../../../src/manager/contracts.js';
import { resolveOptions, type KeyContext } from '../../../src/manager/keys/context.js';
import { HealthMonitor } from '../../../src/manager/keys/health-monitor.js';
import { createKeyMetrics } from '../../../src/manager/keys/key-metrics.js';
import type { ProviderPool } from '../../../src/manager/keys/provider-pool.js';
import type { ProviderStore } from '../../../src/manager/keys/provider-store.js';
import { HostUnlocker } from '../../../src/manager/keys/unlock.js';
import { fakeInventory, host, vm } from './fake-inventory.js';

/** A host agent's key cache behind a fake gateway, and a KMS that can go down. */
function world() {
  const cache = new Map<string, Buffer>();
  const pushes: number[] = [];
  const gateway: HostGateway = {
    async call(_h, method, path, body) {
      if (method === 'GET' && path === '/v1/keys') return { keyIds: [...cache.keys()] } as never;
      if (method === 'POST' && path === '/v1/keys') {
        const keys = (body as { keys: Array<{ keyId: string; key: string }> }).keys;
        pushes.push(keys.length);
        for (const k of keys) cache.set(k.keyId, Buffer.from(k.key, 'base64'));
        return { keyIds: [...cache.keys()] } as never;
      }
      throw new Error(`unexpected ${method} ${path}`);
    },
  };
  const kms = new Map(['hk', 'k1', 'k2'].map((id) => [id, Buffer.alloc(32, id.length)] as const));
  const state = { down: false, gets: [] as string[][] };
  const provider = {
    run: async (fn: (c: unknown) => Promise<unknown>) => {
      if (state.down) throw new KeyProviderError('KEY_PROVIDER_UNREACHABLE', 'key provider "kp": all 1 key servers failed — kms: unreachable');
      return fn({
        batch: async (calls: readonly OpCall<unknown>[]) => {
          const ids = calls.map((c) => String((c.payload.value as unknown as Array<{ value: unknown }>)[0]?.value));
          state.gets.push(ids);
          return ids.map((id) => {
            const k = kms.get(id);
            return k === undefined
              ? { ok: false, error: new KmipOperationError({ operation: 'Get', reason: 'ItemNotFound', reasonValue: 1, resultMessage: '' }) }
              : { ok: true, value: { uniqueIdentifier: id, objectType: 2, formatType: 1, algorithm: 3, length: 256, material: Buffer.from(k) } };
          });
        },
      });
    },
  } as unknown as KeyProvider;
  const events: ManagerEvent[] = [];
  const post = (e: EventInput): ManagerEvent => {
    const ev = { ...e, id: events.length + 1, time: '' };
    events.push(ev);
    return ev;
  };
  const vms = [vm('v1', 'h1', ['k1']), vm('v2', 'h1', ['k2']), vm('v3', 'h1', ['gone']), vm('plain', 'h1', [])];
  const inventory = fakeInventory({
    hosts: [host('h1', undefined, { hostKey: { providerId: 'kp', keyId: 'hk' } })],
    vms,
    gateway,
  });
  const metrics = createKeyMetrics(new Registry());
  const log = pino({ level: 'silent' });
  const platform = { db: new BetterSqlite3(':memory:'), events: { post }, log, metrics: new Registry(), dataDir: '/nonexistent' } as unknown as Platform;
  const health = new HealthMonitor({
    providerIds: () => ['kp'],
    check: () => Promise.reject(new Error('not used')),
    events: { post },
    metrics,
    log,
    intervalMs: 1000,
    timeoutMs: 100,
    certExpiringDays: 30,
  });
  const ctx: KeyContext = {
    platform,
    inventory,
    store: {} as ProviderStore,
    pool: { get: () => ({ id: 'kp', control: provider, fetchers: [provider] }) } as unknown as ProviderPool,
    health,
    metrics,
    options: resolveOptions({}),
  };
  // what the host monitor would record from its last poll
  const setLocked = (ids: string[], locked: boolean): void => {
    for (const [i, v] of vms.entries()) if (ids.includes(v.id)) vms[i] = { ...v, locked };
  };
  return { unlocker: new HostUnlocker(ctx), cache, pushes, state, events, inventory: { vm: inventory.vm, setLocked } };
}

const types = (events: ManagerEvent[], from = 0) => events.slice(from).map((e) => `${e.type} ${e.entity?.id ?? ''}`.trim());

describe('unlockHost', () => {
  it('fetches only what the cache lacks, pushes it, posts each lock change once, retries on its own list', async () => {
    const w = world();
    const r1 = await w.unlocker.unlockHost('h1');
    expect([...r1.unlocked].sort()).toEqual(['v1', 'v2']);
    expect(r1.stillLocked).toEqual(['v3']);
    expect([...w.cache.keys()].sort()).toEqual(['hk', 'k1', 'k2']);
    expect(w.state.gets).toEqual([['hk', 'k1', 'k2', 'gone']]); // one KMIP batch
    expect(types(w.events)).toEqual(['vm.unlocked v1', 'vm.unlocked v2', 'vm.locked.keyMissingOnKms v3']);
    expect(w.unlocker.pending.has('h1')).toBe(true);
    expect(w.unlocker.lockReason('v3')).toBe('keyMissingOnKms');
    // again: only the missing key is asked for, and nothing new is posted
    const n = w.events.length;
    await w.unlocker.unlockHost('h1');
    expect(w.state.gets.at(-1)).toEqual(['gone']);
    expect(w.events.length).toBe(n);
  });

  it('KMS down after a restart: every VM locked with kmsClusterError and kms.unreachable; back: unlocked', async () => {
    const w = world();
    await w.unlocker.unlockHost('h1');
    w.cache.clear(); // the host restarted
    w.state.down = true;
    const from = w.events.length;
    const r = await w.unlocker.unlockHost('h1');
    expect([...r.stillLocked].sort()).toEqual(['v1', 'v2', 'v3']);
    expect(types(w.events, from)).toEqual([
      'kms.unreachable kp',
      'vm.locked.kmsClusterError v1',
      'vm.locked.kmsClusterError v2',
      'vm.locked.kmsClusterError v3',
    ]);
    w.state.down = false;
    const back = w.events.length;
    const r2 = await w.unlocker.unlockHost('h1');
    expect([...r2.unlocked].sort()).toEqual(['v1', 'v2']);
    expect(types(w.events, back)).toEqual(['kms.reachable kp', 'vm.unlocked v1', 'vm.unlocked v2', 'vm.locked.keyMissingOnKms v3']);
    expect(w.events.every((e) => !JSON.stringify(e).includes(Buffer.alloc(32, 2).toString('base64')))).toBe(true);
  });

  it('one unlock, one vm.unlocked: a second run while the inventory still says locked posts nothing', async () => {
    const w = world();
    await w.unlocker.unlockHost('h1');
    w.cache.clear(); // the host restarted
    const from = w.events.length;
    await w.unlocker.unlockHost('h1');
    // the monitor has not re-read the host yet: the inventory still shows the VMs locked
    w.inventory.setLocked(['v1', 'v2'], true);
    await w.unlocker.unlockHost('h1');
    expect(types(w.events, from).filter((t) => t.startsWith('vm.unlocked'))).toEqual(['vm.unlocked v1', 'vm.unlocked v2']);
  });

  it('keys an operation pushed complete a VM: one vm.unlocked, and the next run adds none', async () => {
    const w = world();
    await w.unlocker.unlockHost('h1');
    w.cache.clear();
    const from = w.events.length;
    const v1 = w.inventory.vm('v1');
    if (v1 === undefined) throw new Error('no v1');
    w.unlocker.markLocked('v1');
    w.cache.set('k1', Buffer.alloc(32, 2));
    w.unlocker.markComplete(v1, 'h1');
    await w.unlocker.unlockHost('h1');
    expect(types(w.events, from).filter((t) => t === 'vm.unlocked v1')).toHaveLength(1);
  });

  it('concurrent calls for one host share one run', async () => {
    const w = world();
    const [a, b] = await Promise.all([w.unlocker.unlockHost('h1'), w.unlocker.unlockHost('h1')]);
    expect(a).toBe(b);
    expect(w.pushes).toEqual([3]);
  });
});
