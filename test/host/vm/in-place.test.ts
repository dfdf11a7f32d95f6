import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unwrapDek } from '../../../src/crypto/wrap.js';
import type { HostClient } from '../../../src/host/client/host-client.js';
import { stopAll } from '../../helpers/process.js';
import { makeManagerIdentity, pairedClient, scanForKeys, startAgentProcess, tempDir, type AgentProcess, type ManagerIdentity } from '../harness.js';
import { vmOps, type Vm } from './vm-ops-helpers.js';

// In-place encrypt, deep rekey and decrypt of a powered-off VM through the real agent, QEMU
// reading the data (qemu-io) after each step: kill -9 of the agent in the middle of the
// second disk's encrypt walk (TEST-ONLY fault), restart, the rerun finishes; a deep rekey
// stopped after its first disk leaves only wrapped keys in the .vmx and a VM that refuses to
// power on until the rerun; one disk decrypted and encrypted in place on its own; after
// encrypt → rekey → per-disk → decrypt the raw files are byte-identical.
interface InPlaceVm extends Vm {
  inPlace?: { op: string; keyId?: string; disks: number[] };
}

describe('host agent: in-place encrypt, deep rekey and decrypt of a VM', () => {
  let dir: { path: string; remove(): Promise<void> };
  let data: string;
  let id: ManagerIdentity;
  let agent: AgentProcess;
  let c: HostClient;
  let ops: ReturnType<typeof vmOps>;
  let vm: InPlaceVm;
  let vmDir: string;
  const MiB = 1 << 20;
  const keys = { k1: randomBytes(32), k2: randomBytes(32), hk: randomBytes(32) };
  const original: string[] = [];
  const pushAll = (): Promise<unknown> => c.call('POST', '/v1/keys', { keys: Object.entries(keys).map(([keyId, k]) => ({ keyId, key: k.toString('base64') })) });
  const sha = async (file: string): Promise<string> => createHash('sha256').update(await readFile(join(vmDir, file))).digest('hex');
  const getVm = (): Promise<InPlaceVm> => c.call<InPlaceVm>('GET', `/v1/vms/${vm.uuid}`);

  async function restart(fault?: string): Promise<void> {
    if (fault !== undefined) process.env['VMCRYPT_TEST_FAULT'] = fault;
    try {
      agent = await startAgentProcess(data, 'esx-ip', ['--allow-crash']);
    } finally {
      delete process.env['VMCRYPT_TEST_FAULT'];
    }
    c = await pairedClient(agent, id);
    ops = vmOps(c);
  }

  /** Both disks read back through QEMU: a pattern at the front and one in the last MiB. */
  async function expectGuestData(): Promise<void> {
    await ops.power(vm.uuid, 'on');
    for (const d of [0, 1]) {
      expect(await ops.io(vm.uuid, 'read -P 0x5a 0 64k', d), `disk ${d} front`).toContain('read 65536/65536');
      expect(await ops.io(vm.uuid, 'read -P 0xc3 15m 1m', d), `disk ${d} end`).toContain('read 1048576/1048576');
    }
    await ops.power(vm.uuid, 'off');
  }

  beforeAll(async () => {
    dir = await tempDir('vmcrypt-inplace-');
    data = join(dir.path, 'data');
    id = await makeManagerIdentity();
    await restart();
    await c.call('POST', '/v1/host/crypto-mode', { mode: 'prepared' });
    await pushAll();
    await c.call('POST', '/v1/host/crypto-mode', { mode: 'safe', hostKeyId: 'hk' });
    vm = await c.call<InPlaceVm>('POST', '/v1/vms', { name: 'ipvm', memoryMiB: 64, disks: [{ sizeBytes: 16 * MiB }, { sizeBytes: 16 * MiB }] });
    vmDir = join(data, 'datastores', 'local', 'ipvm');
    await ops.power(vm.uuid, 'on');
    for (const d of [0, 1]) {
      expect(await ops.io(vm.uuid, 'write -P 0x5a 0 64k', d)).toContain('wrote');
      expect(await ops.io(vm.uuid, 'write -P 0xc3 15m 1m', d)).toContain('wrote');
    }
    await ops.power(vm.uuid, 'off');
    for (const f of ['ipvm-disk0.raw', 'ipvm-disk1.raw']) original.push(await sha(f));
  }, 120_000);
  afterAll(async () => {
    await stopAll();
    await dir.remove();
  });

  it('refused by the engine before any disk changed (disk locked by another vmcrypt): the mark goes again, the VM still powers on', async () => {
    const lock = join(vmDir, '.ipvm-disk0.raw.vmcrypt-lock');
    await writeFile(lock, `${process.pid} ${hostname()}\n`); // a live vmcrypt process (this test) holds disk 0
    try {
      await expect(c.call('POST', `/v1/vms/${vm.uuid}/encrypt`, { providerId: 'kp', keyId: 'k1', inPlace: true })).rejects.toMatchObject({ code: 'DISK_BUSY' });
    } finally {
      await rm(lock, { force: true });
    }
    expect((await getVm()).inPlace).toBeUndefined();
    expect(JSON.parse(await readFile(join(vmDir, 'ipvm.vmx'), 'utf8'))).not.toHaveProperty('inPlace');
    await ops.power(vm.uuid, 'on');
    await ops.power(vm.uuid, 'off');
  });

  it('encrypt in place killed (-9) inside the second disk: power-on refused naming the rerun; the rerun finishes, data intact', async () => {
    await agent.proc.stop();
    await restart('in-place-last-disk-chunk:3:kill');
    await pushAll();
    await expect(c.call('POST', `/v1/vms/${vm.uuid}/encrypt`, { providerId: 'kp', keyId: 'k1', inPlace: true })).rejects.toThrow();
    await agent.proc.kill();
    await restart();
    await pushAll();
    const half = await getVm();
    expect(half).toMatchObject({ encrypted: false, inPlace: { op: 'encrypt', keyId: 'k1', disks: [0, 1] } });
    // disk 0 converted and renamed, disk 1 half-done (the engine's progress file beside it)
    expect(await readdir(vmDir)).toEqual(expect.arrayContaining(['ipvm-disk0.luks', 'ipvm-disk1.raw', '.ipvm-disk1.raw.vmcrypt-inplace']));
    await expect(ops.power(vm.uuid, 'on')).rejects.toMatchObject({ code: 'HOST_CONFLICT', message: expect.stringMatching(/in-place encrypt.*rerun the encrypt of the VM with key k1/) });
    await expect(c.call('POST', `/v1/vms/${vm.uuid}/decrypt`, { inPlace: true })).rejects.toMatchObject({ code: 'HOST_CONFLICT' });
    vm = await c.call<InPlaceVm>('POST', `/v1/vms/${vm.uuid}/encrypt`, { providerId: 'kp', keyId: 'k1' }); // the rerun (in place, as recorded)
    expect(vm).toMatchObject({ encrypted: true, crypto: { state: 'unlocked', keyId: 'k1' } });
    expect(vm.inPlace).toBeUndefined();
    expect(vm.disks?.map((d) => d.layers[0]?.file)).toEqual(['ipvm-disk0.luks', 'ipvm-disk1.luks']);
    const files = await readdir(vmDir);
    expect(files.filter((f) => f.endsWith('.raw') || f.includes('vmcrypt-'))).toEqual([]);
    await expectGuestData();
  });

  it('deep rekey in place stopped after its first disk: only wrapped keys in the .vmx, the VM stays closed until the rerun', async () => {
    await agent.proc.stop();
    await restart('in-place-disk:1');
    await pushAll();
    await expect(c.call('POST', `/v1/vms/${vm.uuid}/rekey`, { providerId: 'kp', keyId: 'k2', deep: true, inPlace: true })).rejects.toMatchObject({ code: 'HOST_TEST_FAULT' });
    const vmx = JSON.parse(await readFile(join(vmDir, 'ipvm.vmx'), 'utf8')) as { keySafe: { keyId: string }; inPlace: { op: string; wrappedVmDek: string; disks: Array<{ wrappedDek: string }> } };
    expect(vmx.keySafe.keyId).toBe('k1');
    expect(vmx.inPlace.op).toBe('rekey');
    const newDeks = [vmx.inPlace.wrappedVmDek, ...vmx.inPlace.disks.map((d) => d.wrappedDek)].map((w) => unwrapDek(keys.k2, w, 'k2'));
    expect(await scanForKeys(vmDir, [], newDeks)).toEqual([]); // wrapped only: no clear copy of a new DEK in any file
    newDeks.forEach((k) => k.fill(0));
    await expect(ops.power(vm.uuid, 'on')).rejects.toMatchObject({ code: 'HOST_CONFLICT', message: expect.stringMatching(/deep rekey with key k2/) });
    await expect(c.call('POST', `/v1/vms/${vm.uuid}/rekey`, { providerId: 'kp', keyId: 'k2' })).rejects.toMatchObject({ code: 'HOST_CONFLICT' });
    await expect(c.call('POST', `/v1/vms/${vm.uuid}/clone`, { name: 'ipclone', mode: 'keep' })).rejects.toMatchObject({ code: 'HOST_CONFLICT', message: expect.stringMatching(/copying, moving or migrating it refused/) });
    await expect(c.call('POST', `/v1/vms/${vm.uuid}/rekey`, { providerId: 'kp', keyId: 'k1', deep: true })).rejects.toMatchObject({ code: 'HOST_CONFLICT' });
    vm = await c.call<InPlaceVm>('POST', `/v1/vms/${vm.uuid}/rekey`, { providerId: 'kp', keyId: 'k2', deep: true, inPlace: true });
    expect(vm).toMatchObject({ crypto: { keyId: 'k2' }, keyIds: ['k2'] });
    expect(vm.inPlace).toBeUndefined();
    expect(vm.disks?.map((d) => d.layers[0]?.file)).toEqual(['ipvm-disk0.luks', 'ipvm-disk1.luks']);
    await c.call('DELETE', '/v1/keys/k1');
    await expectGuestData();
  });

  it('one disk in place: decrypt, then encrypt under its own key (per-disk policy)', async () => {
    vm = await c.call<InPlaceVm>('POST', `/v1/vms/${vm.uuid}/disks/decrypt`, { disk: 1, inPlace: true });
    expect(vm.disks?.[1]?.layers[0]).toMatchObject({ file: 'ipvm-disk1.raw', format: 'raw', keyId: null });
    await c.call('POST', '/v1/keys', { keys: [{ keyId: 'k1', key: keys.k1.toString('base64') }] });
    vm = await c.call<InPlaceVm>('POST', `/v1/vms/${vm.uuid}/disks/encrypt`, { disk: 1, inPlace: true, encryption: { providerId: 'kp', keyId: 'k1' } });
    expect(vm.disks?.[1]?.layers[0]).toMatchObject({ file: 'ipvm-disk1.luks', format: 'luks', keyId: 'k1' });
    expect(vm).toMatchObject({ keyIds: ['k2', 'k1'] });
    expect(vm.inPlace).toBeUndefined();
    await expectGuestData();
  });

  it('decrypt in place: raw files byte-identical to the ones before the encrypt', async () => {
    vm = await c.call<InPlaceVm>('POST', `/v1/vms/${vm.uuid}/decrypt`, { inPlace: true });
    expect(vm).toMatchObject({ encrypted: false, crypto: { state: 'notEncrypted' } });
    expect(vm.disks?.map((d) => d.layers[0]?.file)).toEqual(['ipvm-disk0.raw', 'ipvm-disk1.raw']);
    expect([await sha('ipvm-disk0.raw'), await sha('ipvm-disk1.raw')]).toEqual(original);
    expect((await readdir(vmDir)).filter((f) => f.endsWith('.luks') || f.includes('vmcrypt-'))).toEqual([]);
    await expectGuestData();
  });
});
