import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runCli } from '../../cli/manager/run-cli.js';
import {
  createVm, datastoreOf, eventsOf, guestDataIntact, lastEventId, qemuIo, refusal, runTask, startLab, waitFor, writeGuestData,
  type Lab, type VmJson,
} from './lab.js';

/**
 * In place through the manager (issue 15): a datastore whose free space (the agent's test-only
 * figure) cannot hold the copy gets an in-place encrypt and deep rekey instead of the
 * `vm.crypto.noDiskSpace` refusal, with `vm.crypto.inPlace` and the task's `mode`; refused when
 * not even the in-place growth fits; an operator asks for it with `vmcrypt vm decrypt --in-place`;
 * the copy mode stays the default where there is room; a kill -9 of the agent mid-walk is
 * finished by rerunning the same request. Guest data checked through QEMU after each step.
 */
let lab: Lab;
let vmId = '';
const api = () => lab.api();
const vmOf = (id: string) => api().get<VmJson>(`/api/vms/${id}`);
const MiB = 1 << 20;
const setFree = (freeBytes: number | null) => lab.host(0).call('POST', '/v1/debug/datastore-free', { name: 'local', freeBytes });
const encrypt = () => api().post(`/api/vms/${vmId}/policy`, { policyId: 'vm-encryption' });
type Task = { state: string; result?: { mode?: string }; error?: { code: string; message: string } };

async function dataIntact(): Promise<void> {
  await api().post(`/api/vms/${vmId}/power-on`);
  try {
    expect(await guestDataIntact(lab.host(0), vmId)).toBe(true);
    expect(await qemuIo(lab.host(0), vmId, 'read -P 0x6e 31m 1m')).toContain('read 1048576/1048576');
  } finally {
    await api().post(`/api/vms/${vmId}/power-off`);
  }
}

/** Unlocked as the host says now (after an agent restart the manager pushes the keys again). */
const unlocked = () => waitFor('VM unlocked on its restarted host', async () => {
  const info = await api().get<{ locked: boolean }>(`/api/vms/${vmId}/encryption`);
  return !info.locked && !(await vmOf(vmId)).observed.locked;
}, 60_000, 300);

async function vmDirFiles(): Promise<string[]> {
  return readdir(dirname((await vmOf(vmId)).vmxPath ?? ''));
}

beforeAll(async () => {
  lab = await startLab('vmops-inplace', 1);
  const ds = await datastoreOf(api(), 'esx1-local');
  vmId = await createVm(api(), { name: 'tight', hostId: lab.hosts[0]?.id ?? '', datastoreId: ds, disks: [32 * MiB] });
  await api().post(`/api/vms/${vmId}/power-on`);
  await writeGuestData(lab.host(0), vmId);
  expect(await qemuIo(lab.host(0), vmId, 'write -P 0x6e 31m 1m')).toContain('wrote');
  await api().post(`/api/vms/${vmId}/power-off`);
}, 180_000);

afterAll(async () => {
  await lab?.stop();
});

describe('VM operations in place when the datastore cannot hold the copy', () => {
  it('encrypt: no room for the copy → in place, vm.crypto.inPlace (warning) and mode in-place, no noDiskSpace refusal', async () => {
    await setFree(24 * MiB); // the copy needs 32 MiB; in place 4 MiB + the host's 16 MiB headroom
    const before = await lastEventId(api());
    const t = await runTask<Task>(api(), encrypt());
    expect(t.state, JSON.stringify(t.error)).toBe('success');
    expect(t.result?.mode).toBe('in-place');
    const ev = await eventsOf(api(), before, 'vm.crypto.inPlace');
    expect(ev[0]).toMatchObject({ severity: 'warning', message: expect.stringMatching(/no room for a copy: converting in place, the original is not kept/) });
    expect(await eventsOf(api(), before, 'vm.crypto.noDiskSpace')).toEqual([]);
    expect((await vmOf(vmId)).observed.encrypted).toBe(true);
    expect((await vmDirFiles()).filter((f) => f.endsWith('.raw') || f.includes('vmcrypt-'))).toEqual([]);
    await dataIntact();
  });

  it('refused as before (critical vm.crypto.noDiskSpace) when not even the in-place growth fits', async () => {
    await setFree(8 * MiB);
    const before = await lastEventId(api());
    const r = await refusal(api().post(`/api/vms/${vmId}/rekey`, { deep: true }));
    expect(r.message).toMatch(/rule: datastore-twice-the-space/);
    expect(r.message).toMatch(/even in place/);
    expect((await eventsOf(api(), before, 'vm.crypto.noDiskSpace'))[0]?.severity).toBe('critical');
  });

  it('deep rekey: in place again while the room is short; a kill -9 of the agent mid-walk is finished by rerunning the request', async () => {
    await lab.restartAgent(0, { VMCRYPT_TEST_FAULT: 'in-place-chunk:8:kill', VMCRYPT_TEST_FREE_BYTES: `local:${24 * MiB}` });
    await unlocked();
    const keyBefore = (await vmOf(vmId)).observed.keys.find((k) => k.part === 'vm')?.key.keyId;
    const failed = await runTask<Task>(api(), api().post(`/api/vms/${vmId}/rekey`, { deep: true }));
    expect(failed.state).toBe('error');
    await lab.restartAgent(0, { VMCRYPT_TEST_FREE_BYTES: `local:${24 * MiB}` });
    await unlocked();
    // half-done on the host: the .vmx names the in-place deep rekey to rerun
    expect((await lab.host(0).call<{ inPlace?: { op: string } }>('GET', `/v1/vms/${vmId}`)).inPlace?.op).toBe('rekey');
    const t = await runTask<Task>(api(), api().post(`/api/vms/${vmId}/rekey`, { deep: true })); // the rerun of the failed operation
    expect(t.state, JSON.stringify(t.error)).toBe('success');
    expect(t.result?.mode).toBe('in-place');
    const keyAfter = (await vmOf(vmId)).observed.keys.find((k) => k.part === 'vm')?.key.keyId;
    expect(keyAfter).not.toBe(keyBefore);
    await dataIntact();
  });

  it('where there is room the copy mode stays the default; vmcrypt vm decrypt --in-place asks for in place (info event)', async () => {
    await setFree(null);
    const profile = join(lab.root, 'cli-profile.json');
    const login = await runCli(['login', lab.manager.url, '--user', 'admin', '--thumbprint', lab.manager.thumbprint, '--profile', profile], { VMCRYPT_PASSWORD: lab.manager.adminPassword });
    expect(login.code, login.stderr).toBe(0);
    const before = await lastEventId(api());
    const dec = await runCli(['vm', 'decrypt', 'tight', '--in-place', '--profile', profile]);
    expect(dec.code, dec.stderr).toBe(0);
    expect(dec.stdout).toMatch(/VM tight decrypted .* — disks converted in place/);
    expect((await eventsOf(api(), before, 'vm.crypto.inPlace'))[0]).toMatchObject({ severity: 'info', message: expect.stringMatching(/in place as asked/) });
    expect((await vmOf(vmId)).observed.encrypted).toBe(false);
    await dataIntact();
    const mid = await lastEventId(api());
    const t = await runTask<Task>(api(), encrypt());
    expect(t.state, JSON.stringify(t.error)).toBe('success');
    expect(t.result?.mode).toBeUndefined();
    expect(await eventsOf(api(), mid, 'vm.crypto.inPlace')).toEqual([]);
    await dataIntact();
  });
});
