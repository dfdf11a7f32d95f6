import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostClient } from '../../../src/host/client/host-client.js';
import { stopAll } from '../../helpers/process.js';
import { makeManagerIdentity, pairedClient, startAgentProcess, tempDir } from '../harness.js';

interface Vm {
  uuid: string;
  vmx: string;
  powerState: string;
  disks?: Array<{ layers: Array<{ file: string }> }>;
}

// Storage migration (relocate) of an encrypted VM between two datastores of one host, powered
// on (QEMU mirrors the disk, ciphertext as it was) and off (file copy); data read through QEMU.
describe('storage migration (POST /v1/vms/{uuid}/relocate)', () => {
  let dir: { path: string; remove(): Promise<void> };
  let c: HostClient;
  let vm: Vm;
  let ds2: string;
  let local: string;
  const io = async (command: string): Promise<string> => (await c.call<{ output: string }>('POST', `/v1/vms/${vm.uuid}/qemu-io`, { disk: 0, command })).output;

  beforeAll(async () => {
    dir = await tempDir('vmcrypt-reloc-');
    // this host cannot encrypt migrations: storage migration does not need it
    const agent = await startAgentProcess(join(dir.path, 'data'), 'esx-s', ['--no-migrate-encryption']);
    c = await pairedClient(agent, await makeManagerIdentity());
    await c.call('POST', '/v1/host/crypto-mode', { mode: 'prepared' });
    await c.call('POST', '/v1/keys', { keys: [{ keyId: 'kek', key: randomBytes(32).toString('base64') }, { keyId: 'hk', key: randomBytes(32).toString('base64') }] });
    await c.call('POST', '/v1/host/crypto-mode', { mode: 'safe', hostKeyId: 'hk' });
    ds2 = join(dir.path, 'ds2');
    local = join(dir.path, 'data', 'datastores', 'local');
    await mkdir(ds2);
    await c.call('POST', '/v1/datastores', { name: 'ds2', path: ds2 });
    vm = await c.call<Vm>('POST', '/v1/vms', { name: 'r1', memoryMiB: 64, disks: [{ sizeBytes: 4 << 20 }, { sizeBytes: 1 << 20 }], encryption: { providerId: 'kp', keyId: 'kek' } });
    await c.call('POST', `/v1/vms/${vm.uuid}/power`, { action: 'on' });
    expect(await io('write -P 0x4e 0 256k')).toContain('wrote 262144/262144');
  }, 120_000);
  afterAll(async () => {
    await stopAll();
    await dir?.remove();
  });

  it('--no-migrate-encryption: the host offers only plain migrations and refuses the encrypted channels', async () => {
    expect((await c.call<{ migration: unknown }>('GET', '/v1/host')).migration).toEqual({ encryption: false, channels: ['plain'] });
    const req = { migrationId: randomUUID(), vmId: vm.uuid, vmxPath: vm.vmx, key: randomBytes(32), nonce: randomBytes(8) };
    await expect(c.migrationIncoming({ ...req, channel: 'qemu-psk' })).rejects.toMatchObject({ code: 'HOST_RULE' });
    await expect(c.migrateVm(vm.uuid, { ...req, endpoint: { host: '127.0.0.1', port: 9 }, channel: 'tunnel' })).rejects.toMatchObject({ code: 'HOST_RULE' });
  });

  it('refuses the datastore the VM is on, and an unknown one', async () => {
    await expect(c.relocateVm(vm.uuid, 'local')).rejects.toMatchObject({ code: 'HOST_BAD_REQUEST' });
    await expect(c.relocateVm(vm.uuid, 'nope')).rejects.toMatchObject({ code: 'HOST_NOT_FOUND' });
  });

  it('powered on: disks mirrored to ds2 (marked leftovers of a crashed attempt replaced), old files removed after the commit', async () => {
    await mkdir(join(ds2, 'r1'));
    await writeFile(join(ds2, 'r1', '.vmcrypt-partial'), 'leftover');
    await writeFile(join(ds2, 'r1', 'r1-disk0.luks'), 'half-copied');
    const before = await readFile(join(local, 'r1', 'r1-disk0.luks'));
    const r = await c.relocateVm(vm.uuid, 'ds2');
    expect(r.vmxPath).toBe(join(ds2, 'r1', 'r1.vmx'));
    expect(r.bytes).toBeGreaterThan(4 << 20);
    const got = await c.call<Vm>('GET', `/v1/vms/${vm.uuid}`);
    expect(got).toMatchObject({ vmx: r.vmxPath, powerState: 'poweredOn' });
    await expect(stat(join(local, 'r1'))).rejects.toThrow();
    expect((await readdir(join(ds2, 'r1'))).sort()).not.toContain('.vmcrypt-partial');
    // ciphertext as it was (same LUKS master key); the pattern is not in clear
    const after = await readFile(join(ds2, 'r1', 'r1-disk0.luks'));
    expect(after.subarray(0, 1 << 20).equals(before.subarray(0, 1 << 20))).toBe(true);
    expect(after.includes(Buffer.alloc(4096, 0x4e))).toBe(false);
    // the VM writes and reads on the new files
    expect(await io('write -P 0x4f 256k 256k')).toContain('wrote 262144/262144');
    expect(await io('read -P 0x4e 0 256k')).toContain('read 262144/262144');
    expect(await io('read -P 0x4f 256k 256k')).toContain('read 262144/262144');
  });

  it('powered off: files copied back to local, data intact after power-on', async () => {
    await c.call('POST', `/v1/vms/${vm.uuid}/power`, { action: 'off' });
    const r = await c.relocateVm(vm.uuid, 'local');
    expect(r.vmxPath).toBe(join(local, 'r1', 'r1.vmx'));
    await expect(stat(join(ds2, 'r1'))).rejects.toThrow();
    await c.call('POST', `/v1/vms/${vm.uuid}/power`, { action: 'on' });
    expect(await io('read -P 0x4e 0 256k')).toContain('read 262144/262144');
    expect(await io('read -P 0x4f 256k 256k')).toContain('read 262144/262144');
    await c.call('POST', `/v1/vms/${vm.uuid}/power`, { action: 'off' });
  });
});
