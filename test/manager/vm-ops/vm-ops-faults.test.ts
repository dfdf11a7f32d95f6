import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createVm, datastoreOf, eventsOf, guestDataIntact, lastEventId, refusal, runTask, startLab, waitFor, writeGuestData,
  type Lab, type VmJson,
} from './lab.js';

/**
 * The failure paths with the host agent's test switches (--allow-crash): an injected free-space
 * figure (twice the space), a shallow rekey stopped after its first layer (mixed keys → rerun),
 * a multi-branch snapshot tree, and copies: clones to another host through a shared datastore,
 * an instant clone whose keys are then frozen.
 */
let lab: Lab;
const api = () => lab.api();
const vmOf = (id: string) => api().get<VmJson>(`/api/vms/${id}`);
const MiB = 1 << 20;
let ds = '';
let shared = '';
let encVm = '';

/** Unlocked as the host says now (the inventory's view may be one poll old). */
const unlocked = (id: string) => waitFor(`VM ${id} unlocked`, async () => {
  const info = await api().get<{ locked: boolean }>(`/api/vms/${id}/encryption`);
  if (info.locked) return undefined;
  const v = await vmOf(id);
  return !v.observed.locked ? v : undefined;
});

beforeAll(async () => {
  lab = await startLab('vmops-faults', 2);
  ds = await datastoreOf(api(), 'esx1-local');
  const dir = join(lab.root, 'shared-ds');
  await mkdir(dir);
  shared = (await api().post<{ id: string }>('/api/datastores', { name: 'shared1', path: dir, hostIds: lab.hosts.map((h) => h.id) })).id;
}, 180_000);

afterAll(async () => {
  await lab?.stop();
});

describe('VM operations: space, mixed keys, snapshot branches, clones', () => {
  it('a datastore too small refuses encrypt before anything changes, with the critical vm.crypto.noDiskSpace event', async () => {
    const id = await createVm(api(), { name: 'small', hostId: lab.hosts[0]?.id ?? '', datastoreId: ds, disks: [8 * MiB] });
    await lab.host(0).call('POST', '/v1/debug/datastore-free', { name: 'local', freeBytes: 2 * MiB });
    const before = await lastEventId(api());
    const r = await refusal(api().post(`/api/vms/${id}/policy`, { policyId: 'vm-encryption' }));
    expect(r.message).toMatch(/rule: datastore-twice-the-space/);
    const ev = (await eventsOf(api(), before, 'vm.crypto.noDiskSpace'))[0];
    expect(ev).toMatchObject({ severity: 'critical', data: { datastore: 'esx1-local', neededBytes: 8 * MiB, freeBytes: 2 * MiB } });
    const vm = await vmOf(id);
    expect(vm.observed.encrypted).toBe(false);
    expect(vm.desired.policyId).toBe('datastore-default');
    expect(vm.operation?.kind).toBe('create');
    expect(JSON.stringify(await api().get('/api/alarms'))).toMatch(/vm\.diskSpace/);
    await lab.host(0).call('POST', '/v1/debug/datastore-free', { name: 'local', freeBytes: null });
    const t = await runTask(api(), api().post(`/api/vms/${id}/policy`, { policyId: 'vm-encryption' }));
    expect(t.state, JSON.stringify(t.error)).toBe('success');
    expect((await eventsOf(api(), before, 'vm.crypto.diskSpaceOk')).length).toBe(1);
  });

  it('a shallow rekey stopped after the first layer: vm.diskChainMixedKeys, shown on the VM; after a host restart it unlocks (one vm.unlocked) without the rerun; the rerun finishes it', async () => {
    encVm = await createVm(api(), { name: 'chain', hostId: lab.hosts[0]?.id ?? '', datastoreId: ds, policyId: 'vm-encryption', disks: [4 * MiB] });
    await api().post(`/api/vms/${encVm}/power-on`);
    await writeGuestData(lab.host(0), encVm);
    await api().post(`/api/vms/${encVm}/snapshots`, { name: 'a' });
    await api().post(`/api/vms/${encVm}/snapshots`, { name: 'b' });
    await api().post(`/api/vms/${encVm}/power-off`);
    await lab.restartAgent(0, { VMCRYPT_TEST_FAULT: 'rekey-after-layer:1' });
    await unlocked(encVm);
    const before = await lastEventId(api());
    const t = await runTask(api(), api().post(`/api/vms/${encVm}/rekey`, {}));
    expect(t.state).toBe('error');
    expect((await eventsOf(api(), before, 'vm.diskChainMixedKeys'))[0]?.severity).toBe('error');
    const info = await api().get<{ mixedKeys: boolean; keys: Array<{ keyId: string }> }>(`/api/vms/${encVm}/encryption`);
    expect(info.mixedKeys).toBe(true);
    expect(info.keys.length).toBe(2);
    expect((await vmOf(encVm)).compliance.status).toBe('notCompliant');
    // another operation waits for this one to be finished
    expect((await refusal(api().post(`/api/vms/${encVm}/rekey`, { deep: true }))).message).toMatch(/rule: finish-failed-operation-first/);

    // a host restart empties its key cache: unlock alone (no rerun) must bring back BOTH keys of the chain
    const restarted = await lastEventId(api());
    await lab.restartAgent(0);
    const open = await unlocked(encVm);
    expect(open.compliance.status).toBe('notCompliant');
    const still = await api().get<{ mixedKeys: boolean; locked: boolean; keys: Array<{ keyId: string }> }>(`/api/vms/${encVm}/encryption`);
    expect(still).toMatchObject({ mixedKeys: true, locked: false });
    expect(still.keys).toHaveLength(2);
    await api().post(`/api/vms/${encVm}/power-on`);
    expect(await guestDataIntact(lab.host(0), encVm)).toBe(true);
    await api().post(`/api/vms/${encVm}/power-off`);
    // the host's vm.poweredOff is relayed after its vm.unlocked: once it is here, a relayed duplicate would be too
    await waitFor('vm.poweredOff relayed', async () => (await eventsOf(api(), restarted, 'vm.poweredOff')).some((e) => e.entity?.id === encVm));
    const unlocks = (await eventsOf(api(), restarted, 'vm.unlocked')).filter((e) => e.entity?.id === encVm);
    expect(unlocks).toHaveLength(1);
    const again = await runTask(api(), api().post(`/api/vms/${encVm}/reconcile`));
    expect(again.state, JSON.stringify(again.error)).toBe('success');
    expect((await eventsOf(api(), before, 'vm.diskChainConsistent')).length).toBe(1);
    const after = await api().get<{ mixedKeys: boolean; keys: Array<{ keyId: string }> }>(`/api/vms/${encVm}/encryption`);
    expect(after.mixedKeys).toBe(false);
    expect(after.keys).toHaveLength(1);
    expect((await vmOf(encVm)).compliance.status).toBe('compliant');
    await api().post(`/api/vms/${encVm}/power-on`);
    expect(await guestDataIntact(lab.host(0), encVm)).toBe(true);
    await api().post(`/api/vms/${encVm}/power-off`);
  });

  it('a snapshot tree with two branches refuses a shallow rekey', async () => {
    const tree = await api().get<{ snapshots: Array<{ id: string; name: string }> }>(`/api/vms/${encVm}/snapshots`);
    const a = tree.snapshots.find((s) => s.name === 'a');
    await api().post(`/api/vms/${encVm}/snapshots/${a?.id}/revert`);
    await api().post(`/api/vms/${encVm}/snapshots`, { name: 'c' });
    const after = await api().get<{ snapshots: Array<{ id: string; parentId?: string }> }>(`/api/vms/${encVm}/snapshots`);
    expect(after.snapshots.length).toBe(3);
    expect((await refusal(api().post(`/api/vms/${encVm}/rekey`, {}))).message).toMatch(/rule: snapshots-single-branch/);
    for (const s of [...after.snapshots].reverse()) await api().delete(`/api/vms/${encVm}/snapshots/${s.id}`);
  });

  it('clones an encrypted VM to the other host through a shared datastore: keep, decrypt and deep recrypt; the data is the same', async () => {
    const src = encVm;
    const srcKey = (await vmOf(src)).observed.keys.find((k) => k.part === 'vm')?.key.keyId;
    const cases: Array<{ name: string; body: Record<string, unknown>; encrypted: boolean; sameKey: boolean }> = [
      { name: 'c-keep', body: {}, encrypted: true, sameKey: true },
      { name: 'c-plain', body: { policyId: 'datastore-default' }, encrypted: false, sameKey: false },
      { name: 'c-deep', body: { recrypt: 'deep' }, encrypted: true, sameKey: false },
    ];
    for (const c of cases) {
      const t = await runTask<{ result?: { vmId: string } }>(api(), api().post(`/api/vms/${src}/clone`, { name: c.name, hostId: lab.hosts[1]?.id, datastoreId: shared, ...c.body }));
      expect(t.state, `${c.name}: ${JSON.stringify(t.error)}`).toBe('success');
      const id = t.result?.vmId ?? '';
      const vm = await unlocked(id);
      expect(vm.hostId).toBe(lab.hosts[1]?.id);
      expect(vm.observed.encrypted, c.name).toBe(c.encrypted);
      expect(vm.compliance.status, c.name).toBe('compliant');
      if (c.encrypted) expect(vm.observed.keys.find((k) => k.part === 'vm')?.key.keyId === srcKey, c.name).toBe(c.sameKey);
      await api().post(`/api/vms/${id}/power-on`);
      expect(await guestDataIntact(lab.host(1), id), c.name).toBe(true);
      await api().post(`/api/vms/${id}/power-off`);
    }
  });

  it('an instant clone inherits the keys; then neither it nor its parent may be rekeyed or decrypted', async () => {
    const t = await runTask<{ result?: { vmId: string } }>(api(), api().post(`/api/vms/${encVm}/instant-clone`, { name: 'ic1' }));
    expect(t.state, JSON.stringify(t.error)).toBe('success');
    const child = t.result?.vmId ?? '';
    const parentKey = (await vmOf(encVm)).observed.keys.find((k) => k.part === 'vm')?.key.keyId;
    expect((await vmOf(child)).observed.keys.find((k) => k.part === 'vm')?.key.keyId).toBe(parentKey);
    for (const id of [encVm, child]) {
      expect((await refusal(api().post(`/api/vms/${id}/rekey`, {}))).message).toMatch(/rule: instant-clone-frozen-keys/);
      expect((await refusal(api().post(`/api/vms/${id}/policy`, { policyId: 'datastore-default' }))).message).toMatch(/rule: instant-clone-frozen-keys/);
    }
  });
});
