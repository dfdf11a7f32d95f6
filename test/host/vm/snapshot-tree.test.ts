import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostClient } from '../../../src/host/client/host-client.js';
import { stopAll } from '../../helpers/process.js';
import { makeManagerIdentity, pairedClient, startAgentProcess, tempDir } from '../harness.js';
import { vmOps, type Vm } from './vm-ops-helpers.js';

// Snapshot trees (revert + new snapshot = a second branch, the first kept), and the shallow
// rekey over a chain: refused for a multi-branch tree, resumable after a fault after layer 1.
describe('host agent: snapshot tree and resumable shallow rekey', () => {
  let dir: { path: string; remove(): Promise<void> };
  let c: HostClient;
  let ops: ReturnType<typeof vmOps>;
  let vm: Vm;
  const keys = { k1: randomBytes(32), k2: randomBytes(32), hk: randomBytes(32) };
  const push = (...ids: Array<keyof typeof keys>): Promise<unknown> =>
    c.call('POST', '/v1/keys', { keys: ids.map((keyId) => ({ keyId, key: keys[keyId].toString('base64') })) });
  const snaps: Record<string, string> = {};

  beforeAll(async () => {
    dir = await tempDir('vmcrypt-tree-');
    process.env['VMCRYPT_TEST_FAULT'] = 'rekey-after-layer:1';
    const agent = await startAgentProcess(join(dir.path, 'data'), 'esx-t', ['--allow-crash']);
    delete process.env['VMCRYPT_TEST_FAULT'];
    c = await pairedClient(agent, await makeManagerIdentity());
    ops = vmOps(c);
    await c.call('POST', '/v1/host/crypto-mode', { mode: 'prepared' });
    await push('k1', 'k2', 'hk');
    await c.call('POST', '/v1/host/crypto-mode', { mode: 'safe', hostKeyId: 'hk' });
    vm = await c.call<Vm>('POST', '/v1/vms', { name: 't1', memoryMiB: 64, disks: [{ sizeBytes: 4 << 20 }], encryption: { providerId: 'kp', keyId: 'k1' } });
  });
  afterAll(async () => {
    await stopAll();
    await dir.remove();
  });

  it('revert to an older snapshot and a new snapshot make a second branch; both are kept', async () => {
    await ops.write(vm.uuid, 0x11);
    snaps['A'] = (await ops.snapshot(vm.uuid, 'A')).id;
    await ops.write(vm.uuid, 0x22);
    snaps['B'] = (await ops.snapshot(vm.uuid, 'B')).id;
    await ops.write(vm.uuid, 0x33);
    await ops.revert(vm.uuid, snaps['A'] ?? '');
    await ops.expectData(vm.uuid, 0x11);
    let tree = await ops.tree(vm.uuid);
    expect(tree.current).toBe(snaps['A']);
    expect(tree.snapshots.map((s) => s.name).sort()).toEqual(['A', 'B']);
    await ops.write(vm.uuid, 0x44);
    snaps['C'] = (await ops.snapshot(vm.uuid, 'C')).id;
    tree = await ops.tree(vm.uuid);
    expect(tree.branches).toBe(2);
    expect(tree.snapshots.find((s) => s.name === 'A')?.children.sort()).toEqual([snaps['B'], snaps['C']].sort());
    expect(tree.snapshots.find((s) => s.name === 'C')).toMatchObject({ parent: snaps['A'], current: true });
    // every layer of the tree is under k1
    expect(tree.snapshots.every((s) => s.disks.every((d) => d.keyId === 'k1'))).toBe(true);
    // both branches can be visited
    await ops.revert(vm.uuid, snaps['B'] ?? '');
    await ops.expectData(vm.uuid, 0x22);
    await ops.revert(vm.uuid, snaps['C'] ?? '');
    await ops.expectData(vm.uuid, 0x44);
    expect((await ops.get(vm.uuid)).currentSnapshotId).toBe(snaps['C']);
  });

  it('memory snapshots are refused for encrypted VMs', async () => {
    await expect(c.call('POST', `/v1/vms/${vm.uuid}/snapshots`, { name: 'm', memory: true })).rejects.toMatchObject({ code: 'HOST_UNSUPPORTED_ENCRYPTED' });
  });

  it('a shallow rekey of a multi-branch tree is refused with the rule named', async () => {
    await expect(c.call('POST', `/v1/vms/${vm.uuid}/rekey`, { providerId: 'kp', keyId: 'k2' })).rejects.toMatchObject({
      code: 'HOST_RULE', message: expect.stringMatching(/single branch/),
    });
    expect((await ops.get(vm.uuid)).keyIds).toEqual(['k1']);
  });

  it('deleting a snapshot with two branches below it is refused; deleting a branch tip keeps the rest', async () => {
    await expect(ops.removeSnapshot(vm.uuid, snaps['A'] ?? '')).rejects.toMatchObject({
      code: 'HOST_RULE', message: expect.stringMatching(/deleting snapshot A is refused: a snapshot can be deleted only when at most one branch continues below it, and 2 do/),
    });
    await ops.removeSnapshot(vm.uuid, snaps['B'] ?? '');
    const tree = await ops.tree(vm.uuid);
    expect(tree.branches).toBe(1);
    expect(tree.snapshots.map((s) => s.name).sort()).toEqual(['A', 'C']);
    await ops.expectData(vm.uuid, 0x44);
  });

  it('a shallow rekey failing after the first layer leaves mixed keys; the VM still opens; a rerun finishes', async () => {
    await expect(c.call('POST', `/v1/vms/${vm.uuid}/rekey`, { providerId: 'kp', keyId: 'k2' })).rejects.toMatchObject({ code: 'HOST_TEST_FAULT' });
    let v = await ops.get(vm.uuid);
    expect(v.mixedKeys).toBe(true);
    expect(v.pendingRekey?.keyId).toBe('k2');
    expect(v.crypto.keyId).toBe('k1');
    expect(v.keyIds.sort()).toEqual(['k1', 'k2']);
    expect(v.disks?.[0]?.layers.map((l) => l.keyId)).toEqual(['k2', 'k1', 'k1']);
    await ops.expectData(vm.uuid, 0x44);
    // rerun while running: shallow rekey is allowed powered on
    await ops.power(vm.uuid, 'on');
    v = await c.call<Vm>('POST', `/v1/vms/${vm.uuid}/rekey`, { providerId: 'kp', keyId: 'k2' });
    await ops.power(vm.uuid, 'off');
    expect(v).toMatchObject({ mixedKeys: false, crypto: { keyId: 'k2' }, keyIds: ['k2'] });
    expect(v.disks?.[0]?.layers.every((l) => l.keyId === 'k2')).toBe(true);
    await c.call('DELETE', '/v1/keys/k1');
    await ops.expectData(vm.uuid, 0x44);
    await ops.revert(vm.uuid, snaps['A'] ?? '');
    await ops.expectData(vm.uuid, 0x11);
  });

  it('deleting the remaining snapshots merges their layers; the data stays', async () => {
    await ops.write(vm.uuid, 0x55);
    await ops.removeSnapshot(vm.uuid, snaps['C'] ?? '');
    await ops.removeSnapshot(vm.uuid, snaps['A'] ?? '');
    const v = await ops.get(vm.uuid);
    expect(v.snapshots).toEqual([]);
    expect(v.disks?.[0]?.layers).toHaveLength(1);
    await ops.expectData(vm.uuid, 0x55);
  });
});
