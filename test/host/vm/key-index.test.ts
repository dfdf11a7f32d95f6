import { randomBytes } from 'node:crypto';
import { cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostEvents } from '../../../src/host/events.js';
import { CryptoMode, HostStore } from '../../../src/host/host-store.js';
import { KeyCache } from '../../../src/host/keys/key-cache.js';
import { HostVms } from '../../../src/host/vm/host-vms.js';
import { VmKeyIndex } from '../../../src/host/vm/vm-key-index.js';
import { cryptoStatusOf, type HostContext } from '../../../src/host/vm/vm-open.js';
import { readVmx } from '../../../src/host/vm-files/vmx.js';
import { tempDir } from '../harness.js';

describe('VmKeyIndex (pure)', () => {
  const has = (present: string[]) => (k: string): boolean => present.includes(k);

  it('keeps key id → VMs in step with set and delete; a VM is locked iff a needed key is missing', () => {
    const ix = new VmKeyIndex();
    ix.set('a', { name: 'a', keyIds: ['k1'] });
    ix.set('b', { name: 'b', keyIds: ['k1', 'k2'] });
    ix.set('p', { name: 'p', keyIds: [] });
    ix.set('x', { name: '?', keyIds: [], unreadable: true });
    expect(ix.needing(['k1']).sort()).toEqual(['a', 'b']);
    expect(ix.needing(['k2'])).toEqual(['b']);
    expect(ix.locked(has([])).sort()).toEqual(['a', 'b']);
    expect(ix.locked(has(['k1']))).toEqual(['b']);
    expect(ix.locked(has(['k1', 'k2']))).toEqual([]);
    expect(ix.isLocked('p', has([]))).toBe(false);
    expect(ix.isLocked('x', has([]))).toBe(false);
    // rekey of b to k3 only: k2 no longer names b
    ix.set('b', { name: 'b', keyIds: ['k3'] });
    expect(ix.needing(['k2'])).toEqual([]);
    expect(ix.keyIds().sort()).toEqual(['k1', 'k3']);
    ix.delete('a');
    expect(ix.needing(['k1'])).toEqual([]);
    expect(ix.keyIds()).toEqual(['k3']);
    expect(ix.size).toBe(3);
  });

  it('unlockedBy: only VMs that needed a fresh key and now have every key', () => {
    const ix = new VmKeyIndex();
    ix.set('a', { name: 'a', keyIds: ['k1'] });
    ix.set('b', { name: 'b', keyIds: ['k1', 'k2'] });
    ix.set('c', { name: 'c', keyIds: ['k3'] });
    expect(ix.unlockedBy(['k1'], has(['k1']))).toEqual(['a']);
    expect(ix.unlockedBy(['k2'], has(['k1', 'k2']))).toEqual(['b']);
    expect(ix.unlockedBy([], has(['k1', 'k2', 'k3']))).toEqual([]);
  });

  it('builds from the .vmx files with an unreadable one marked, not listed as locked', () => {
    const ix = VmKeyIndex.build([{ uuid: 'u1', vmx: '/nonexistent/vm.vmx' }]);
    expect(ix.get('u1')).toMatchObject({ unreadable: true, keyIds: [] });
    expect(ix.locked(() => false)).toEqual([]);
  });
});

describe('HostVms key index (real .vmx files, no QEMU: diskless VMs)', () => {
  let dir: { path: string; remove(): Promise<void> };
  let ctx: HostContext;
  let vms: HostVms;
  const material = new Map<string, Buffer>();
  /** Puts the KEK `id` into the cache: the same bytes every time (what the KMS would return). */
  const put = (id: string): void => {
    if (!material.has(id)) material.set(id, randomBytes(32));
    ctx.cache.put(id, material.get(id) as Buffer);
  };
  const uuids: Record<string, string> = {};

  /** What the index must say: every registered .vmx read and judged against the cache. */
  async function lockedByReading(): Promise<string[]> {
    const out: string[] = [];
    for (const v of ctx.store.state.vms) {
      const doc = await readVmx(v.vmx).catch(() => undefined);
      if (doc !== undefined && cryptoStatusOf(ctx.cache, doc).state === 'locked') out.push(v.uuid);
    }
    return out.sort();
  }
  const expectLocked = async (names: string[]): Promise<void> => {
    const want = names.map((n) => uuids[n] ?? n).sort();
    expect(vms.lockedVms().sort()).toEqual(want);
    expect(await lockedByReading()).toEqual(want);
  };
  const unlockedEvents = (): string[] => ctx.events.after(0, 1000).filter((e) => e.type === 'vm.unlocked').map((e) => e.vmUuid ?? '');

  beforeAll(async () => {
    dir = await tempDir('vmcrypt-key-index-');
    const store = await HostStore.open(join(dir.path, 'data'), 'esx-i');
    await store.update((s) => ({ ...s, cryptoMode: CryptoMode.SAFE }));
    const runDir = join(dir.path, 'data', 'run');
    await mkdir(runDir, { recursive: true });
    ctx = { store, cache: new KeyCache(), events: new HostEvents(), runDir };
    vms = new HostVms(ctx);
    vms.loadIndex();
  });
  afterAll(async () => {
    ctx.cache.clear();
    for (const m of material.values()) m.fill(0);
    await dir.remove();
  });

  const create = async (name: string, keyId?: string): Promise<void> => {
    const v = await vms.create({ name, datastore: 'local', memoryMiB: 64, disks: [], ...(keyId === undefined ? {} : { encryption: { providerId: 'kp', keyId } }) });
    uuids[name] = v.uuid;
  };

  it('create: each VM indexed with its key; locked iff its key is missing', async () => {
    for (const k of ['k1', 'k2']) put(k);
    await create('a', 'k1');
    await create('b', 'k2');
    await create('p');
    await expectLocked([]);
    ctx.cache.remove('k2');
    await expectLocked(['b']);
    ctx.cache.remove('k1');
    await expectLocked(['a', 'b']);
  });

  it('a push announces exactly the VMs it unlocks, once (a re-push is not fresh)', async () => {
    put('k1');
    vms.onKeysPushed(['k1']);
    expect(unlockedEvents()).toEqual([uuids['a']]);
    await expectLocked(['b']);
    vms.onKeysPushed([]);
    put('k2');
    vms.onKeysPushed(['k2']);
    expect(unlockedEvents()).toEqual([uuids['a'], uuids['b']]);
    await expectLocked([]);
  });

  it('shallow rekey moves the VM to its new key in the index', async () => {
    put('k3');
    await vms.rekey(uuids['a'] ?? '', { providerId: 'kp', keyId: 'k3' }, false);
    ctx.cache.remove('k1');
    await expectLocked([]);
    ctx.cache.remove('k3');
    await expectLocked(['a']);
    put('k3');
  });

  it('deep rekey, encrypt and decrypt keep the index right', async () => {
    put('k4');
    await vms.rekey(uuids['b'] ?? '', { providerId: 'kp', keyId: 'k4' }, true);
    await vms.encrypt(uuids['p'] ?? '', { providerId: 'kp', keyId: 'k4' });
    ctx.cache.remove('k4');
    await expectLocked(['b', 'p']);
    put('k4');
    await vms.decrypt(uuids['p'] ?? '');
    ctx.cache.remove('k4');
    await expectLocked(['b']);
    put('k4');
    await expectLocked([]);
  });

  it('unregister drops the VM from the index; register (e.g. a copy on a shared datastore) adds it back', async () => {
    const b = uuids['b'] ?? '';
    const vmx = (await vms.get(b)).vmx;
    await vms.unregister(b);
    ctx.cache.remove('k4');
    await expectLocked([]);
    // the same VM registered from another path (a shared datastore)
    const moved = join(dir.path, 'shared', 'b');
    await cp(join(vmx, '..'), moved, { recursive: true });
    await vms.register(join(moved, 'b.vmx'));
    await expectLocked(['b']);
    put('k4');
    vms.onKeysPushed(['k4']);
    expect(unlockedEvents().filter((u) => u === b)).toHaveLength(2);
    await expectLocked([]);
  });

  it('an agent restart (a new HostVms over the same store) rebuilds the same index from the .vmx files', async () => {
    ctx.cache.remove('k3');
    const again = new HostVms(ctx);
    again.loadIndex();
    expect(again.lockedVms()).toEqual([uuids['a']]);
    expect(await lockedByReading()).toEqual([uuids['a']]);
    put('k3');
    expect(again.lockedVms()).toEqual([]);
  });
});
