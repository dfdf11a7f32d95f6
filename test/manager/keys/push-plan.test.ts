import { describe, expect, it } from 'vitest';
import { hostKeyPlan, pushTargets, vmsByKeyPresence } from '../../../src/manager/keys/push-plan.js';
import { chunk, distinctKeys, groupByProvider, keyRefId, mapLimit } from '../../../src/manager/keys/key-refs.js';
import { fakeInventory, host, vm } from './fake-inventory.js';

const ids = (hs: { id: string }[]): string[] => hs.map((h) => h.id).sort();

describe('push rules (vSphere 7)', () => {
  const inv = fakeInventory({
    clusters: [
      { id: 'ha', name: 'ha', ha: true },
      { id: 'noha', name: 'noha', ha: false },
    ],
    hosts: [
      host('h1', 'ha'),
      host('h2', 'ha'),
      host('h3', 'ha', { cryptoMode: 'incapable' }),
      host('h4', 'noha'),
      host('h5', 'noha'),
      host('h6'),
      host('h7', undefined, { hostKey: { providerId: 'kp', keyId: 'hk7' } }),
    ],
    vms: [
      vm('v1', 'h1', ['k1', 'k1d']),
      vm('v2', 'h2', ['k2']),
      vm('v3', 'h4', ['k3']),
      vm('v4', 'h5', ['k4']),
      vm('v5', 'h6', ['k5']),
      vm('plain', 'h1', []),
      vm('v7', 'h7', ['k7']),
    ],
  });

  it('HA cluster: every host of the cluster', () => {
    expect(ids(pushTargets(inv, { hostId: 'h1' }))).toEqual(['h1', 'h2', 'h3']);
  });

  it('cluster without HA: only the VM host (DRS plays no part)', () => {
    expect(ids(pushTargets(inv, { hostId: 'h4' }))).toEqual(['h4']);
  });

  it('standalone host: that host; unknown host: none', () => {
    expect(ids(pushTargets(inv, { hostId: 'h6' }))).toEqual(['h6']);
    expect(pushTargets(inv, { hostId: 'nope' })).toEqual([]);
  });

  it('a restarted HA host needs the keys of every VM of its cluster, its own VMs are the ones it unlocks', () => {
    const plan = hostKeyPlan(inv, 'h3');
    expect(plan.keys.map((k) => k.keyId).sort()).toEqual(['k1', 'k1d', 'k2']);
    expect(plan.vms).toEqual([]);
    const p1 = hostKeyPlan(inv, 'h1');
    expect(p1.vms.map((v) => v.id)).toEqual(['v1']); // the unencrypted VM is not waiting for keys
    expect(p1.keys.map((k) => k.keyId).sort()).toEqual(['k1', 'k1d', 'k2']);
  });

  it('a non-HA host needs only its own VMs\' keys; a crypto-safe host also its host key, first', () => {
    expect(hostKeyPlan(inv, 'h4').keys.map((k) => k.keyId)).toEqual(['k3']);
    const p7 = hostKeyPlan(inv, 'h7');
    expect(p7.keys.map((k) => k.keyId)).toEqual(['hk7', 'k7']);
    expect(p7.hostKey).toEqual({ providerId: 'kp', keyId: 'hk7' });
  });

  it('a VM is ready only when every one of its keys is present', () => {
    const present = new Set([keyRefId({ providerId: 'kp', keyId: 'k1' })]);
    const r = vmsByKeyPresence([vm('a', 'h1', ['k1']), vm('b', 'h1', ['k1', 'k1d'])], present);
    expect(r.ready.map((v) => v.id)).toEqual(['a']);
    expect(r.waiting.map((v) => v.id)).toEqual(['b']);
  });
});

describe('batching helpers', () => {
  it('chunk: ≤ size, order kept, nothing lost', () => {
    const items = Array.from({ length: 1000 }, (_, i) => i);
    const parts = chunk(items, 256);
    expect(parts.map((p) => p.length)).toEqual([256, 256, 256, 232]);
    expect(parts.flat()).toEqual(items);
    expect(chunk([], 256)).toEqual([]);
    expect(() => chunk(items, 0)).toThrow(RangeError);
  });

  it('keys are grouped per provider, each id once (a key id is unique only within its provider)', () => {
    const g = groupByProvider([
      { providerId: 'a', keyId: '1' },
      { providerId: 'b', keyId: '1' },
      { providerId: 'a', keyId: '1' },
      { providerId: 'a', keyId: '2' },
    ]);
    expect([...g]).toEqual([
      ['a', ['1', '2']],
      ['b', ['1']],
    ]);
    expect(distinctKeys([{ providerId: 'a', keyId: '1' }, { providerId: 'a', keyId: '1' }])).toHaveLength(1);
  });

  it('mapLimit never runs more than the limit at once and keeps result order', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapLimit(Array.from({ length: 20 }, (_, i) => i), 3, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setImmediate(r));
      running--;
      return n * 2;
    });
    expect(peak).toBe(3);
    expect(out).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
  });
});
