import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeProfile } from '../../../src/cli/profile-file.js';
import { jsonOf, runCli } from '../../cli/manager/run-cli.js';
import { createVm, eventsOf, guestDataIntact, lastEventId, refusal, runTask, writeGuestData, type VmJson } from '../vm-ops/lab.js';
import { startMigrationLab, type MigrationLab } from './migration-lab.js';

/**
 * Migration end to end (issue 14): real KMS, two managers, four host agents running QEMU on one
 * shared directory (esx3 cannot encrypt migrations). Data written through QEMU on the source is
 * read back through QEMU on the destination.
 */
let lab: MigrationLab;
const m1 = () => lab.m1.admin;
const m2 = () => lab.m2.admin;
const id = (n: string) => lab.hostIds[n] ?? '';
/** The hosts' preferred encrypted channel (the host agent chooses the order it lists them in). */
const ENCRYPTED = expect.stringMatching(/^(tunnel|qemu-psk)$/);
interface MoveResult { mode: string; channel?: string; encrypted: boolean; downtimeMs: number; bytes: number; hostId: string }
const move = (vmId: string, body: Record<string, unknown>) => runTask<{ result?: MoveResult }>(m1(), m1().post(`/api/vms/${vmId}/migrate`, body));
const peer = () => ({ url: lab.m2.url, thumbprint: lab.m2.thumbprint, token: lab.m2.admin.token ?? '' });
const listed = async (host: string, vmId: string) => (await lab.host(host).call<{ vms: Array<{ uuid: string }> }>('GET', '/v1/vms')).vms.some((v) => v.uuid === vmId);
const cached = async (host: string) => (await lab.host(host).call<{ keyIds: string[] }>('GET', '/v1/keys')).keyIds;

beforeAll(async () => {
  lab = await startMigrationLab();
}, 120_000);
afterAll(async () => lab?.stop());

let encVm = '';
let plainVm = '';

describe('migration within one manager', () => {
  it('live: a running encrypted VM moves esx1 → esx2 encrypted; keys follow; its data reads back on esx2; no crypto change accepted meanwhile', async () => {
    encVm = await createVm(m1(), { name: 'mig-enc', hostId: id('esx1'), datastoreId: lab.datastore.m1, policyId: 'vm-encryption', disks: [4 << 20] });
    await m1().post(`/api/vms/${encVm}/power-on`);
    await writeGuestData(lab.host('esx1'), encVm);
    const kek = (await m1().get<VmJson>(`/api/vms/${encVm}`)).observed.keys[0]?.key.keyId ?? '';
    const before = await lastEventId(m1());
    const started = await m1().post<{ id: string }>(`/api/vms/${encVm}/migrate`, { host: 'esx2' });
    const refused = await Promise.all([
      refusal(m1().post(`/api/vms/${encVm}/rekey`, {})),
      refusal(m1().post(`/api/vms/${encVm}/policy`, { policyId: 'datastore-default' })),
      refusal(m1().post(`/api/vms/${encVm}/settings`, { migrateEncryption: 'disabled' })),
      refusal(m1().post(`/api/vms/${encVm}/migrate`, { host: 'esx1' })),
    ]);
    for (const r of refused) expect(r.message, r.message).toMatch(/is migrating to host esx2 \(migration [0-9a-f-]{36}.*\(rule: vm-migrating\)/);
    const t = await m1().waitTask<{ result?: MoveResult; error?: unknown }>(started.id, 120_000);
    expect(t.state, JSON.stringify(t.error)).toBe('success');
    expect(t.result).toMatchObject({ mode: 'live', encrypted: true, channel: ENCRYPTED, hostId: id('esx2') });
    expect(typeof t.result?.downtimeMs).toBe('number');
    expect((await m1().get<VmJson>(`/api/vms/${encVm}`)).hostId).toBe(id('esx2'));
    expect(await guestDataIntact(lab.host('esx2'), encVm)).toBe(true);
    expect(await listed('esx1', encVm)).toBe(false);
    expect(await cached('esx2')).toContain(kek);
    expect(await cached('esx1')).not.toContain(kek);
    expect((await eventsOf(m1(), before, 'vm.migratingWithEncryption')).length).toBe(1);
    expect((await eventsOf(m1(), before, 'vm.migrated'))[0]?.data).toMatchObject({ mode: 'live', encrypted: true, channel: ENCRYPTED });
  }, 120_000);

  it('policy matrix: disabled / opportunistic / required × a host able / unable to encrypt (esx3)', async () => {
    const vm = await createVm(m1(), { name: 'mig-plain', hostId: id('esx1'), datastoreId: lab.datastore.m1, disks: [1 << 20] });
    plainVm = vm;
    await m1().post(`/api/vms/${vm}/power-on`);
    const set = (mode: string) => m1().post(`/api/vms/${vm}/settings`, { migrateEncryption: mode });
    const before = await lastEventId(m1());

    await set('required');
    expect((await refusal(m1().post(`/api/vms/${vm}/migrate`, { host: 'esx3' }))).message).toMatch(/host esx3 cannot encrypt migrations \(rule: migrate-encryption-required\)/);
    expect((await move(vm, { host: 'esx2' })).result).toMatchObject({ encrypted: true, channel: ENCRYPTED });
    await set('opportunistic');
    expect((await move(vm, { host: 'esx3' })).result).toMatchObject({ encrypted: false, channel: 'plain' });
    const warned = await eventsOf(m1(), before, 'vm.migration.plain');
    expect(warned.map((e) => e.severity)).toEqual(['warning']);
    await set('required');
    expect((await refusal(m1().post(`/api/vms/${vm}/migrate`, { host: 'esx1' }))).message).toMatch(/host esx3 cannot encrypt/);
    await set('disabled');
    expect((await move(vm, { host: 'esx1' })).result).toMatchObject({ encrypted: false, channel: 'plain' });
    expect((await move(vm, { host: 'esx2' })).result).toMatchObject({ encrypted: false, channel: 'plain' });
    await set('opportunistic');
    expect((await move(vm, { host: 'esx1' })).result).toMatchObject({ encrypted: true, channel: ENCRYPTED });
    expect((await eventsOf(m1(), before, 'vm.migration.plain')).length).toBe(1);
    // an encrypted VM always migrates encrypted, whatever its setting: never to esx3
    await m1().post(`/api/vms/${encVm}/settings`, { migrateEncryption: 'disabled' });
    expect((await refusal(m1().post(`/api/vms/${encVm}/migrate`, { host: 'esx3' }))).message).toMatch(/VM mig-enc is encrypted and migrates only encrypted.*rule: migrate-encryption-required/);
    // powered off: re-registered, no stream
    await m1().post(`/api/vms/${vm}/power-off`);
    expect((await move(vm, { host: 'esx3' })).result).toMatchObject({ mode: 'cold', hostId: id('esx3') });
    expect(await listed('esx3', vm)).toBe(true);
    expect(await listed('esx1', vm)).toBe(false);
  }, 120_000);

  it('storage migration of a running encrypted VM (datastore only), then datastore + host at once; data intact', async () => {
    const vm = await createVm(m1(), { name: 'mig-store', hostId: id('esx1'), datastoreId: lab.datastore.m1, policyId: 'vm-encryption', disks: [4 << 20] });
    await m1().post(`/api/vms/${vm}/power-on`);
    await writeGuestData(lab.host('esx1'), vm);
    const st = await move(vm, { datastore: 'shared2' });
    expect(st.result).toMatchObject({ mode: 'storage', hostId: id('esx1'), datastoreId: lab.datastore.m1second });
    expect(await m1().get<VmJson>(`/api/vms/${vm}`)).toMatchObject({ datastoreId: lab.datastore.m1second, vmxPath: join(lab.root, 'shared2', 'mig-store', 'mig-store.vmx') });
    expect(await guestDataIntact(lab.host('esx1'), vm)).toBe(true);
    const both = await move(vm, { host: 'esx2', datastore: 'shared' });
    expect(both.result).toMatchObject({ mode: 'live', encrypted: true, hostId: id('esx2'), datastoreId: lab.datastore.m1 });
    expect(await guestDataIntact(lab.host('esx2'), vm)).toBe(true);
  }, 120_000);
});

describe('across managers sharing the key provider', () => {
  it('live: the running encrypted VM moves from manager 1 (esx2) to manager 2 (esx4); manager 2 fetched its keys itself', async () => {
    const before = await lastEventId(m2());
    const t = await move(encVm, { host: 'esx4', manager: peer() });
    expect(t.state, JSON.stringify(t.error)).toBe('success');
    expect(t.result).toMatchObject({ mode: 'live', encrypted: true, channel: ENCRYPTED });
    expect((await refusal(m1().get(`/api/vms/${encVm}`))).status).toBe(404);
    const there = await m2().get<VmJson>(`/api/vms/${encVm}`);
    expect(there).toMatchObject({ hostId: id('esx4'), observed: { encrypted: true, powerState: 'poweredOn', locked: false } });
    expect(await guestDataIntact(lab.host('esx4'), encVm)).toBe(true);
    expect(await listed('esx2', encVm)).toBe(false);
    expect((await eventsOf(m2(), before, 'vm.migrated')).length).toBe(1);
    // powered off (mig-plain, left on esx3): re-registered on esx4, no stream
    const cold = await move(plainVm, { host: 'esx4', manager: peer() });
    expect(cold.result).toMatchObject({ mode: 'cold', hostId: id('esx4') });
    expect(await m2().get<VmJson>(`/api/vms/${plainVm}`)).toMatchObject({ hostId: id('esx4'), observed: { powerState: 'poweredOff' } });
    expect(await listed('esx3', plainVm)).toBe(false);
  }, 120_000);

  it('clone to manager 2 with a shallow recrypt and with a decrypt of the copy', async () => {
    const src = await createVm(m1(), { name: 'clone-src', hostId: id('esx1'), datastoreId: lab.datastore.m1, policyId: 'vm-encryption', disks: [1 << 20] });
    const srcKey = (await m1().get<VmJson>(`/api/vms/${src}`)).observed.keys[0]?.key.keyId;
    const recrypt = await runTask<{ result?: { vmId: string } }>(m1(), m1().post(`/api/vms/${src}/clone`, { name: 'clone-rk', recrypt: 'shallow', host: 'esx4', manager: peer() }));
    expect(recrypt.state, JSON.stringify(recrypt.error)).toBe('success');
    const rk = await m2().get<VmJson>(`/api/vms/${recrypt.result?.vmId ?? ''}`);
    expect(rk).toMatchObject({ name: 'clone-rk', hostId: id('esx4'), observed: { encrypted: true } });
    expect(rk.observed.keys[0]?.key.keyId).not.toBe(srcKey);
    const plain = await runTask<{ result?: { vmId: string } }>(m1(), m1().post(`/api/vms/${src}/clone`, { name: 'clone-dec', policyId: 'datastore-default', host: 'esx4', manager: peer() }));
    expect(plain.state, JSON.stringify(plain.error)).toBe('success');
    expect(await m2().get<VmJson>(`/api/vms/${plain.result?.vmId ?? ''}`)).toMatchObject({ name: 'clone-dec', observed: { encrypted: false } });
    const names = (await m1().get<{ vms: Array<{ name: string }> }>('/api/vms')).vms.map((v) => v.name);
    expect(names).not.toContain('clone-rk');
  }, 120_000);

  it('refused before anything moves: keys in a key provider manager 2 does not know', async () => {
    const pol = await m1().post<{ id: string }>('/api/policies', { name: 'kp2 encryption', encryption: true, providerId: 'kp2' });
    const vm = await createVm(m1(), { name: 'kp2-vm', hostId: id('esx1'), datastoreId: lab.datastore.m1, policyId: pol.id, disks: [1 << 20] });
    const t = await move(vm, { host: 'esx4', manager: peer() });
    expect(t.state).toBe('error');
    expect(t.error?.message).toMatch(/key provider kp2, which this manager does not know.*rule: migrate-key-provider-known/);
    expect((await m1().get<VmJson>(`/api/vms/${vm}`)).hostId).toBe(id('esx1'));
    expect(await listed('esx1', vm)).toBe(true);
    expect(await listed('esx4', vm)).toBe(false);
    expect((await refusal(m2().get(`/api/vms/${vm}`))).status).toBe(404);
  }, 60_000);
});

describe('CLI', () => {
  it('vmcrypt vm set --migrate-encryption, vm move --host --json, vm move --manager PROFILE', async () => {
    const profile = async (file: string, m: typeof lab.m1) => {
      const path = join(lab.root, file);
      await writeProfile(path, { version: 1, managerUrl: m.url, thumbprint: m.thumbprint, token: m.admin.token ?? '' });
      return path;
    };
    const p1 = await profile('p1.json', lab.m1);
    const p2 = await profile('p2.json', lab.m2);
    const vm = await createVm(m1(), { name: 'cli-vm', hostId: id('esx1'), datastoreId: lab.datastore.m1, disks: [1 << 20] });
    await m1().post(`/api/vms/${vm}/power-on`);
    const set = await runCli(['vm', 'set', 'cli-vm', '--migrate-encryption', 'required'], { VMCRYPT_PROFILE: p1 });
    expect(set.stdout, set.stderr).toContain('migrateEncryption required');
    const local = jsonOf<{ state: string; result: MoveResult }>(await runCli(['vm', 'move', 'cli-vm', '--host', 'esx2', '--json'], { VMCRYPT_PROFILE: p1 }));
    expect(local).toMatchObject({ state: 'success', result: { mode: 'live', encrypted: true } });
    const across = await runCli(['vm', 'move', 'cli-vm', '--host', 'esx4', '--manager', p2], { VMCRYPT_PROFILE: p1 });
    expect(across.stdout, across.stderr).toMatch(/moved cli-vm to manager https:\/\/127\.0\.0\.1:\d+, host esx4 \(live, encrypted over (tunnel|qemu-psk)/);
    expect((await m2().get<VmJson>(`/api/vms/${vm}`)).hostId).toBe(id('esx4'));
  }, 120_000);
});
