import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostClient } from '../../src/host/client/host-client.js';
import { stopAll } from '../helpers/process.js';
import { makeManagerIdentity, pairedClient, startAgentProcess, tempDir, type AgentProcess } from './harness.js';

interface Vm {
  uuid: string;
  vmx: string;
  encrypted: boolean;
  crypto: { state: string };
  powerState: string;
  qemuPid?: number;
  disks?: Array<{ layers: Array<{ file: string; format: string }> }>;
}

// An unencrypted VM: same directory layout, plain files; what encrypted VMs refuse works here.
describe('host agent: unencrypted VM', () => {
  let dir: { path: string; remove(): Promise<void> };
  let agent: AgentProcess;
  let c: HostClient;
  let vm: Vm;
  const io = async (command: string): Promise<string> => (await c.call<{ output: string }>('POST', `/v1/vms/${vm.uuid}/qemu-io`, { command })).output;
  const power = (action: string): Promise<Vm> => c.call<Vm>('POST', `/v1/vms/${vm.uuid}/power`, { action });

  beforeAll(async () => {
    dir = await tempDir('vmcrypt-plain-');
    const id = await makeManagerIdentity();
    const { certificateInfo } = await import('../../src/pki/index.js');
    // pinned up front instead of pairing with the token
    agent = await startAgentProcess(join(dir.path, 'data'), 'esx-p', ['--manager-fingerprint', certificateInfo(id.certPem).sha256Fingerprint]);
    expect(agent.pairingToken).toBeUndefined();
    c = await pairedClient(agent, id);
  });
  afterAll(async () => {
    await stopAll();
    await dir.remove();
  });

  it('needs no crypto mode, keeps the layout with plain files', async () => {
    await expect(
      c.call('POST', '/v1/vms', { name: 'enc', disks: [{ sizeBytes: 1 << 20 }], encryption: { providerId: 'kp', keyId: 'k' } }),
    ).rejects.toMatchObject({ code: 'HOST_CRYPTO_MODE' });
    vm = await c.call<Vm>('POST', '/v1/vms', { name: 'plain1', memoryMiB: 64, disks: [{ sizeBytes: 4 << 20 }], serialPorts: 1 });
    expect(vm).toMatchObject({ encrypted: false, crypto: { state: 'notEncrypted' }, storagePolicy: 'Datastore Default' });
    expect(vm.disks?.[0]?.layers[0]?.format).toBe('raw');
    const vmx = JSON.parse(await readFile(vm.vmx, 'utf8')) as Record<string, unknown>;
    expect(vmx['config']).toBeDefined();
    expect(vmx['keySafe']).toBeUndefined();
    const log = await readFile(join(dir.path, 'data', 'datastores', 'local', 'plain1', 'plain1.log'), 'utf8');
    expect(log).toContain('created VM plain1');
  });

  it('runs, suspends and resumes, snapshots to a plain qcow2 overlay; data lands in clear', async () => {
    vm = await power('on');
    await io('write -P 0x3c 0 8k');
    expect((await power('suspend')).powerState).toBe('suspended');
    expect((await power('resume')).powerState).toBe('poweredOn');
    await expect(c.call('POST', `/v1/vms/${vm.uuid}/snapshots`, { name: 'm', memory: true })).rejects.toMatchObject({ code: 'HOST_BAD_REQUEST' });
    await power('off');
    const raw = await readFile(join(dir.path, 'data', 'datastores', 'local', 'plain1', 'plain1-disk0.raw'));
    expect(raw.subarray(0, 8192).equals(Buffer.alloc(8192, 0x3c))).toBe(true);
    await c.call('POST', `/v1/vms/${vm.uuid}/snapshots`, { name: 's1' });
    vm = await c.call<Vm>('GET', `/v1/vms/${vm.uuid}`);
    expect(vm.disks?.[0]?.layers.map((l) => l.format)).toEqual(['raw', 'qcow2']);
    await power('on');
    expect(await io('read -P 0x3c 0 8k')).toContain('read 8192/8192 bytes');
    await power('off');
  });

  it('powers off a hung QEMU that never answers QMP quit (killed after the grace period)', async () => {
    const pid = (await power('on')).qemuPid ?? 0;
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 'SIGSTOP');
    try {
      expect((await power('off')).powerState).toBe('poweredOff');
    } finally {
      try {
        process.kill(pid, 'SIGKILL'); // never leave a stopped QEMU behind if the test failed
      } catch {
        // already gone
      }
    }
  });
});
