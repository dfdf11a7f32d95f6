import { randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostClient } from '../../../src/host/client/host-client.js';
import { stopAll } from '../../helpers/process.js';
import { makeManagerIdentity, pairedClient, runProgram, scanForKeys, startAgentProcess, tempDir } from '../harness.js';
import { vmOps, type Vm } from './vm-ops-helpers.js';

// Clones in every mode (off and running), per-disk encryption, export/restore, instant clones
// and datastore capacity, with real QEMU; data checked through QEMU after each operation.
describe('host agent: clones, per-disk encryption, export/restore, instant clones', () => {
  let dir: { path: string; remove(): Promise<void> };
  let data: string;
  let c: HostClient;
  let ops: ReturnType<typeof vmOps>;
  let plain: Vm;
  let enc: Vm;
  let pid = 0;
  const keys = { k1: randomBytes(32), k2: randomBytes(32), hk: randomBytes(32) };
  const ds = (...p: string[]): string => join(data, 'datastores', 'local', ...p);
  const clone = (uuid: string, body: Record<string, unknown>): Promise<Vm> => c.call<Vm>('POST', `/v1/vms/${uuid}/clone`, body);
  const holds = async (file: string, byte: number): Promise<boolean> => (await readFile(file)).includes(Buffer.alloc(4096, byte));

  beforeAll(async () => {
    dir = await tempDir('vmcrypt-copy-');
    data = join(dir.path, 'data');
    const agent = await startAgentProcess(data, 'esx-c', ['--allow-crash']);
    pid = agent.proc.child.pid ?? 0;
    c = await pairedClient(agent, await makeManagerIdentity());
    ops = vmOps(c);
    await c.call('POST', '/v1/host/crypto-mode', { mode: 'prepared' });
    await c.call('POST', '/v1/keys', { keys: Object.entries(keys).map(([keyId, k]) => ({ keyId, key: k.toString('base64') })) });
    await c.call('POST', '/v1/host/crypto-mode', { mode: 'safe', hostKeyId: 'hk' });
    plain = await c.call<Vm>('POST', '/v1/vms', { name: 'p1', memoryMiB: 64, disks: [{ sizeBytes: 4 << 20 }, { sizeBytes: 4 << 20 }] });
    await ops.power(plain.uuid, 'on');
    await ops.io(plain.uuid, 'write -P 0x41 0 64k', 0);
    await ops.io(plain.uuid, 'write -P 0x42 0 64k', 1);
    await ops.power(plain.uuid, 'off');
  });
  afterAll(async () => {
    await stopAll();
    await dir.remove();
  });

  it('datastores report capacity; a clone that does not fit is refused before anything is written', async () => {
    const { datastores } = await c.call<{ datastores: Array<{ name: string; totalBytes: number; freeBytes: number }> }>('GET', '/v1/datastores');
    expect(datastores[0]).toMatchObject({ name: 'local' });
    expect(datastores[0]?.totalBytes).toBeGreaterThan(0);
    expect(datastores[0]?.freeBytes).toBeGreaterThan(0);
    await c.call('POST', '/v1/debug/datastore-free', { name: 'local', freeBytes: 1000 });
    await expect(clone(plain.uuid, { name: 'big', mode: 'encrypt', encryption: { providerId: 'kp', keyId: 'k1' } })).rejects.toMatchObject({ code: 'HOST_NO_SPACE', message: expect.stringMatching(/datastore local/) });
    const { events } = await c.call<{ events: Array<{ type: string }> }>('GET', '/v1/events');
    expect(events.some((e) => e.type === 'vm.crypto.noDiskSpace')).toBe(true);
    expect(await readdir(ds())).not.toContain('big');
    await c.call('POST', '/v1/debug/datastore-free', { name: 'local', freeBytes: null });
  });

  it('clone plain → encrypted: ciphertext on disk, data identical', async () => {
    enc = await clone(plain.uuid, { name: 'e1', mode: 'encrypt', encryption: { providerId: 'kp', keyId: 'k1' } });
    expect(enc).toMatchObject({ encrypted: true, crypto: { keyId: 'k1' }, storagePolicy: 'VM Encryption Policy' });
    for (const l of enc.disks ?? []) expect(await holds(ds('e1', l.layers[0]?.file ?? ''), 0x41)).toBe(false);
    await ops.expectData(enc.uuid, 0x41, [0]);
    await ops.expectData(enc.uuid, 0x42, [1]);
  });

  it('clones an encrypted VM: keep, shallow (new KEK), deep (new DEKs), decrypt', async () => {
    const keep = await clone(enc.uuid, { name: 'e-keep', mode: 'keep' });
    expect(keep.crypto.keyId).toBe('k1');
    // keep = the same DEK: a byte copy of the LUKS file
    expect((await readFile(ds('e-keep', 'e-keep-disk0.luks'))).equals(await readFile(ds('e1', enc.disks?.[0]?.layers[0]?.file ?? '')))).toBe(true);
    const shallow = await clone(enc.uuid, { name: 'e-shallow', mode: 'recrypt', deep: false, encryption: { providerId: 'kp', keyId: 'k2' } });
    expect(shallow.crypto.keyId).toBe('k2');
    expect((await readFile(ds('e-shallow', 'e-shallow-disk0.luks'))).equals(await readFile(ds('e-keep', 'e-keep-disk0.luks')))).toBe(true);
    const deep = await clone(enc.uuid, { name: 'e-deep', mode: 'deep', encryption: { providerId: 'kp', keyId: 'k2' } });
    expect((await readFile(ds('e-deep', 'e-deep-disk0.luks'))).subarray(0, 4096).equals((await readFile(ds('e-keep', 'e-keep-disk0.luks'))).subarray(0, 4096))).toBe(false);
    const clear = await clone(enc.uuid, { name: 'e-clear', mode: 'decrypt' });
    expect(clear).toMatchObject({ encrypted: false, storagePolicy: 'Datastore Default' });
    expect(await holds(ds('e-clear', 'e-clear-disk1.raw'), 0x42)).toBe(true);
    for (const v of [keep, shallow, deep, clear]) {
      await ops.expectData(v.uuid, 0x41, [0]);
      await ops.expectData(v.uuid, 0x42, [1]);
    }
    await expect(clone(plain.uuid, { name: 'x', mode: 'decrypt' })).rejects.toMatchObject({ code: 'HOST_BAD_REQUEST' });
    await expect(clone(enc.uuid, { name: 'e-keep', mode: 'keep' })).rejects.toMatchObject({ code: 'HOST_CONFLICT' });
  });

  it('clones a running VM with snapshots through a temporary snapshot, which is gone afterwards', async () => {
    await ops.snapshot(enc.uuid, 's1');
    await ops.power(enc.uuid, 'on');
    await ops.io(enc.uuid, 'write -P 0x43 0 64k', 0);
    const live = await clone(enc.uuid, { name: 'e-live', mode: 'deep' });
    expect(live.disks?.[0]?.layers).toHaveLength(1);
    const src = await ops.get(enc.uuid);
    expect(src.powerState).toBe('poweredOn');
    expect(src.snapshots?.map((s) => s.name)).toEqual(['s1']);
    expect(src.disks?.[0]?.layers).toHaveLength(2);
    expect(await ops.io(enc.uuid, 'read -P 0x43 0 64k', 0)).toContain('read 65536/65536');
    await ops.power(enc.uuid, 'off');
    expect((await readdir(ds('e1'))).filter((f) => f.includes('.qcow2'))).toHaveLength(2); // s1's overlay per disk, no temp left
    await ops.expectData(live.uuid, 0x43, [0]);
    await ops.expectData(live.uuid, 0x42, [1]);
    await ops.expectData(enc.uuid, 0x43, [0]);
    const s1 = src.snapshots?.[0]?.id ?? '';
    await ops.removeSnapshot(enc.uuid, s1);
  });

  it('per-disk encryption: refused while the VM home is plain; decrypt and re-encrypt one disk under its own key', async () => {
    await expect(c.call('POST', `/v1/vms/${plain.uuid}/disks/encrypt`, { disk: 0 })).rejects.toMatchObject({ code: 'HOST_RULE', message: expect.stringMatching(/VM home/) });
    let v = await c.call<Vm>('POST', `/v1/vms/${enc.uuid}/disks/decrypt`, { disk: 1 });
    expect(v.disks?.map((d) => d.encrypted)).toEqual([true, false]);
    expect(await holds(ds('e1', v.disks?.[1]?.layers[0]?.file ?? ''), 0x42)).toBe(true);
    await ops.expectData(enc.uuid, 0x42, [1]);
    v = await c.call<Vm>('POST', `/v1/vms/${enc.uuid}/disks/encrypt`, { disk: 1, encryption: { providerId: 'kp', keyId: 'k2' } });
    expect(v.disks?.[1]).toMatchObject({ encrypted: true, layers: [{ format: 'luks', keyId: 'k2' }] });
    expect(v.keyIds.sort()).toEqual(['k1', 'k2']);
    expect(v.mixedKeys).toBe(false);
    expect(await holds(ds('e1', v.disks?.[1]?.layers[0]?.file ?? ''), 0x42)).toBe(false);
    await ops.expectData(enc.uuid, 0x43, [0]);
    await ops.expectData(enc.uuid, 0x42, [1]);
  });

  it('export writes a clear copy; restore makes a new encrypted or plain VM (with a warning event)', async () => {
    const out = join(dir.path, 'backup-e1');
    const r = await c.call<{ path: string; vmx: string }>('POST', `/v1/vms/${enc.uuid}/export`, { path: out });
    expect(r.path).toBe(out);
    expect(await holds(join(out, 'e1-disk0.raw'), 0x43)).toBe(true);
    expect(JSON.parse(await readFile(r.vmx, 'utf8')).keySafe).toBeUndefined();
    const restored = await c.call<Vm>('POST', '/v1/vms/restore', { from: out, name: 'r-enc', encryption: { providerId: 'kp', keyId: 'k2' } });
    expect(restored).toMatchObject({ encrypted: true, crypto: { keyId: 'k2' } });
    expect(restored.uuid).not.toBe(enc.uuid);
    expect(await holds(ds('r-enc', 'r-enc-disk0.luks'), 0x43)).toBe(false);
    await ops.expectData(restored.uuid, 0x43, [0]);
    const plainR = await c.call<Vm>('POST', '/v1/vms/restore', { from: out, name: 'r-plain' });
    expect(plainR.encrypted).toBe(false);
    await ops.expectData(plainR.uuid, 0x42, [1]);
    // the export and the clear clone hold the same guest data, as qemu-img sees it
    await runProgram('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', join(out, 'e1-disk1.raw'), ds('e-clear', 'e-clear-disk1.raw')]);
    const { events } = await c.call<{ events: Array<{ type: string; vmUuid?: string }> }>('GET', '/v1/events');
    expect(events.some((e) => e.type === 'vm.restoredUnencrypted' && e.vmUuid === plainR.uuid)).toBe(true);
  });

  it('instant clone: runs on the parent\'s frozen layers with its keys; key changes of both are refused', async () => {
    const child = await c.call<Vm>('POST', `/v1/vms/${enc.uuid}/instant-clone`, { name: 'ic1' });
    expect(child).toMatchObject({ encrypted: true, crypto: { keyId: 'k1' }, instantCloneParent: enc.uuid });
    expect(child.disks?.[0]?.layers.map((l) => l.shared)).toEqual([true, false]);
    expect((await ops.get(enc.uuid)).instantClones).toEqual([child.uuid]);
    await ops.expectData(child.uuid, 0x43, [0]);
    await ops.write(child.uuid, 0x51, [0]);
    await ops.expectData(enc.uuid, 0x43, [0]); // the parent does not see the child's writes
    await ops.expectData(child.uuid, 0x51, [0]);
    await expect(c.call('POST', `/v1/vms/${child.uuid}/rekey`, { providerId: 'kp', keyId: 'k2' })).rejects.toMatchObject({ code: 'HOST_RULE', message: expect.stringMatching(/VM is an instant clone/) });
    await expect(c.call('POST', `/v1/vms/${enc.uuid}/rekey`, { providerId: 'kp', keyId: 'k2' })).rejects.toMatchObject({ code: 'HOST_RULE', message: expect.stringMatching(/VM has instant clones/) });
    await expect(c.call('POST', `/v1/vms/${enc.uuid}/decrypt`)).rejects.toMatchObject({ code: 'HOST_RULE' });
    await expect(c.call('POST', `/v1/vms/${child.uuid}/disks/decrypt`, { disk: 0 })).rejects.toMatchObject({ code: 'HOST_RULE' });
  });

  it('unregistering the last instant-clone child clears the parent\'s mark (its key changes are allowed again); registering a child again restores it', async () => {
    const second = await c.call<Vm>('POST', `/v1/vms/${enc.uuid}/instant-clone`, { name: 'ic2' });
    const children = (await ops.get(enc.uuid)).instantClones;
    expect(children).toHaveLength(2);
    const first = children[0] ?? '';
    const firstVmx = (await ops.get(first)).vmx;
    await c.call('DELETE', `/v1/vms/${first}`);
    expect((await ops.get(enc.uuid)).instantClones).toEqual([second.uuid]);
    await expect(c.call('POST', `/v1/vms/${enc.uuid}/rekey`, { providerId: 'kp', keyId: 'k2' })).rejects.toMatchObject({ code: 'HOST_RULE', message: expect.stringMatching(/VM has instant clones/) });
    await c.call('DELETE', `/v1/vms/${second.uuid}`);
    expect((await ops.get(enc.uuid)).instantClones).toEqual([]);
    await c.call('POST', '/v1/vms/register', { vmx: firstVmx });
    expect((await ops.get(enc.uuid)).instantClones).toEqual([first]);
    await c.call('DELETE', `/v1/vms/${first}`);
    expect((await ops.get(enc.uuid)).instantClones).toEqual([]);
    const rekeyed = await c.call<Vm>('POST', `/v1/vms/${enc.uuid}/rekey`, { providerId: 'kp', keyId: 'k2' });
    expect(rekeyed).toMatchObject({ crypto: { keyId: 'k2' }, mixedKeys: false, instantClones: [] });
    await ops.expectData(enc.uuid, 0x43, [0]);
  });

  it('no key of any form is in a file under the data directory or on the agent\'s command line', async () => {
    expect(await scanForKeys(data, [pid], Object.values(keys))).toEqual([]);
  });
});
