import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostClient } from '../../../src/host/client/host-client.js';
import { stopAll } from '../../helpers/process.js';
import { makeManagerIdentity, pairedClient, startAgentProcess, tempDir, type AgentProcess, type ManagerIdentity } from '../harness.js';
import { vmOps, type Vm } from './vm-ops-helpers.js';

// kill -9 of the agent in the middle of a clone and of a shallow rekey (the agent SIGKILLs
// itself at a known step, TEST-ONLY fault): after a restart and a key push the VM opens
// under its old or its new keys, and a rerun finishes the job.
describe('host agent: kill -9 mid-clone and mid-shallow-rekey', () => {
  let dir: { path: string; remove(): Promise<void> };
  let data: string;
  let id: ManagerIdentity;
  let agent: AgentProcess;
  let c: HostClient;
  let ops: ReturnType<typeof vmOps>;
  let vm: Vm;
  const keys = { k1: randomBytes(32), k2: randomBytes(32), hk: randomBytes(32) };
  const pushAll = (): Promise<unknown> => c.call('POST', '/v1/keys', { keys: Object.entries(keys).map(([keyId, k]) => ({ keyId, key: k.toString('base64') })) });

  async function restart(fault?: string): Promise<void> {
    if (fault !== undefined) process.env['VMCRYPT_TEST_FAULT'] = fault;
    try {
      agent = await startAgentProcess(data, 'esx-k', ['--allow-crash']);
    } finally {
      delete process.env['VMCRYPT_TEST_FAULT'];
    }
    c = await pairedClient(agent, id);
    ops = vmOps(c);
  }

  beforeAll(async () => {
    dir = await tempDir('vmcrypt-kill-');
    data = join(dir.path, 'data');
    id = await makeManagerIdentity();
    await restart('clone-after-disk:1:kill');
    await c.call('POST', '/v1/host/crypto-mode', { mode: 'prepared' });
    await pushAll();
    await c.call('POST', '/v1/host/crypto-mode', { mode: 'safe', hostKeyId: 'hk' });
    vm = await c.call<Vm>('POST', '/v1/vms', { name: 'k1vm', memoryMiB: 64, disks: [{ sizeBytes: 4 << 20 }, { sizeBytes: 4 << 20 }], encryption: { providerId: 'kp', keyId: 'k1' } });
    await ops.write(vm.uuid, 0x61, [0, 1]);
  });
  afterAll(async () => {
    await stopAll();
    await dir.remove();
  });

  it('a clone killed after its first disk leaves the source intact and a partial directory a rerun replaces', async () => {
    await expect(c.call('POST', `/v1/vms/${vm.uuid}/clone`, { name: 'kc', mode: 'deep', encryption: { providerId: 'kp', keyId: 'k2' } })).rejects.toThrow();
    await agent.proc.kill();
    const left = await readdir(join(data, 'datastores', 'local', 'kc'));
    expect(left).toContain('.vmcrypt-partial');
    expect(left.some((f) => f.endsWith('.vmx'))).toBe(false);
    await restart();
    expect((await ops.get(vm.uuid)).crypto.state).toBe('locked');
    await pushAll();
    await ops.expectData(vm.uuid, 0x61, [0, 1]);
    const kc = await c.call<Vm>('POST', `/v1/vms/${vm.uuid}/clone`, { name: 'kc', mode: 'deep', encryption: { providerId: 'kp', keyId: 'k2' } });
    expect(kc.crypto.keyId).toBe('k2');
    await ops.expectData(kc.uuid, 0x61, [0, 1]);
    expect(await readdir(join(data, 'datastores', 'local', 'kc'))).not.toContain('.vmcrypt-partial');
  });

  it('a shallow rekey killed after its first layer: the VM opens with mixed keys, a rerun finishes', async () => {
    await ops.snapshot(vm.uuid, 'before-rekey');
    await ops.write(vm.uuid, 0x62, [0]);
    await agent.proc.stop();
    await restart('rekey-after-layer:1:kill');
    await pushAll();
    await expect(c.call('POST', `/v1/vms/${vm.uuid}/rekey`, { providerId: 'kp', keyId: 'k2' })).rejects.toThrow();
    await agent.proc.kill();
    await restart();
    await c.call('POST', '/v1/keys', { keys: [{ keyId: 'k1', key: keys.k1.toString('base64') }] });
    // the layer already moved needs k2: still locked, and the reason names it
    const locked = await ops.get(vm.uuid);
    expect(locked).toMatchObject({ mixedKeys: true, crypto: { state: 'locked', reason: expect.stringMatching(/k2/) } });
    await pushAll();
    const mixed = await ops.get(vm.uuid);
    expect(mixed.crypto.state).toBe('unlocked');
    expect(mixed.disks?.flatMap((d) => d.layers.map((l) => l.keyId))).toEqual(['k2', 'k1', 'k1', 'k1']);
    await ops.expectData(vm.uuid, 0x62, [0]);
    await ops.expectData(vm.uuid, 0x61, [1]);
    const done = await c.call<Vm>('POST', `/v1/vms/${vm.uuid}/rekey`, { providerId: 'kp', keyId: 'k2' });
    expect(done).toMatchObject({ mixedKeys: false, keyIds: ['k2'], crypto: { keyId: 'k2' } });
    await c.call('DELETE', '/v1/keys/k1');
    await ops.expectData(vm.uuid, 0x62, [0]);
    await ops.expectData(vm.uuid, 0x61, [1]);
  });
});
