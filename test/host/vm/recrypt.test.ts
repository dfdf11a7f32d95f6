import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostClient } from '../../../src/host/client/host-client.js';
import { readVmx } from '../../../src/host/vm-files/vmx.js';
import { stopAll } from '../../helpers/process.js';
import { makeManagerIdentity, pairedClient, startAgentProcess, tempDir } from '../harness.js';

interface Vm {
  uuid: string;
  vmx: string;
  encrypted: boolean;
  crypto: { state: string; keyId?: string };
  disks?: Array<{ layers: Array<{ file: string; format: string }> }>;
}

// Encrypt an existing VM, shallow rekey (running), deep rekey, decrypt — data intact throughout.
describe('host agent: encrypt, rekey and decrypt a VM', () => {
  let dir: { path: string; remove(): Promise<void> };
  let c: HostClient;
  let vm: Vm;
  let vmDir: string;
  const keys = { k1: randomBytes(32), k2: randomBytes(32), hk: randomBytes(32) };
  const io = async (command: string): Promise<string> => (await c.call<{ output: string }>('POST', `/v1/vms/${vm.uuid}/qemu-io`, { command })).output;
  const power = (action: string): Promise<Vm> => c.call<Vm>('POST', `/v1/vms/${vm.uuid}/power`, { action });
  const readBack = async (): Promise<void> => {
    await power('on');
    expect(await io('read -P 0x21 0 64k')).toContain('read 65536/65536 bytes');
    await power('off');
  };

  beforeAll(async () => {
    dir = await tempDir('vmcrypt-recrypt-');
    const agent = await startAgentProcess(join(dir.path, 'data'), 'esx-r');
    c = await pairedClient(agent, await makeManagerIdentity());
    await c.call('POST', '/v1/host/crypto-mode', { mode: 'prepared' });
    await c.call('POST', '/v1/keys', { keys: Object.entries(keys).map(([keyId, k]) => ({ keyId, key: k.toString('base64') })) });
    await c.call('POST', '/v1/host/crypto-mode', { mode: 'safe', hostKeyId: 'hk' });
    vm = await c.call<Vm>('POST', '/v1/vms', { name: 'r1', memoryMiB: 64, disks: [{ sizeBytes: 4 << 20 }] });
    vmDir = join(dir.path, 'data', 'datastores', 'local', 'r1');
    await power('on');
    await io('write -P 0x21 0 64k');
    await power('off');
  });
  afterAll(async () => {
    await stopAll();
    await dir.remove();
  });

  it('encrypts a plain VM: LUKS disk beside the raw one, .vmx committed, raw removed', async () => {
    vm = await c.call<Vm>('POST', `/v1/vms/${vm.uuid}/encrypt`, { providerId: 'kp', keyId: 'k1' });
    expect(vm).toMatchObject({ encrypted: true, crypto: { state: 'unlocked', keyId: 'k1' } });
    expect(vm.disks?.[0]?.layers).toMatchObject([{ file: 'r1-disk0.luks', format: 'luks', keyId: 'k1' }]);
    await expect(stat(join(vmDir, 'r1-disk0.raw'))).rejects.toThrow();
    expect((await readFile(join(vmDir, 'r1-disk0.luks'))).includes(Buffer.alloc(4096, 0x21))).toBe(false);
    await readBack();
  });

  it('shallow rekey while running: only the wrapping changes; the old KEK is no longer needed', async () => {
    const before = await readFile(join(vmDir, 'r1-disk0.luks'));
    await power('on');
    vm = await c.call<Vm>('POST', `/v1/vms/${vm.uuid}/rekey`, { providerId: 'kp', keyId: 'k2' });
    expect(vm.crypto.keyId).toBe('k2');
    await power('off');
    expect((await readFile(join(vmDir, 'r1-disk0.luks'))).subarray(0, 4096).equals(before.subarray(0, 4096))).toBe(true);
    await c.call('DELETE', '/v1/keys/k1');
    await readBack();
  });

  it('deep rekey: new DEKs, the disk rewritten', async () => {
    await c.call('POST', '/v1/keys', { keys: [{ keyId: 'k1', key: keys.k1.toString('base64') }] });
    const before = await readFile(join(vmDir, 'r1-disk0.luks'));
    await power('on');
    await expect(c.call('POST', `/v1/vms/${vm.uuid}/rekey`, { providerId: 'kp', keyId: 'k1', deep: true })).rejects.toMatchObject({ code: 'HOST_POWER_STATE' });
    await power('off');
    vm = await c.call<Vm>('POST', `/v1/vms/${vm.uuid}/rekey`, { providerId: 'kp', keyId: 'k1', deep: true });
    expect(vm.crypto.keyId).toBe('k1');
    // rewritten beside the old disk under a new name, switched by the .vmx commit
    const file = vm.disks?.[0]?.layers[0]?.file ?? '';
    expect(file).toMatch(/^r1-disk0-k[0-9a-f]{8}\.luks$/);
    await expect(stat(join(vmDir, 'r1-disk0.luks'))).rejects.toThrow();
    const after = await readFile(join(vmDir, file));
    expect(after.subarray(after.length - (4 << 20), after.length - (4 << 20) + 65536).equals(before.subarray(before.length - (4 << 20), before.length - (4 << 20) + 65536))).toBe(false);
    await readBack();
  });

  it('decrypts back to a plain VM', async () => {
    vm = await c.call<Vm>('POST', `/v1/vms/${vm.uuid}/decrypt`, {});
    expect(vm).toMatchObject({ encrypted: false, crypto: { state: 'notEncrypted' } });
    expect((await readVmx(vm.vmx)).keySafe).toBeUndefined();
    const raw = await readFile(join(vmDir, 'r1-disk0.raw'));
    expect(raw.subarray(0, 65536).equals(Buffer.alloc(65536, 0x21))).toBe(true);
    await readBack();
  });
});
