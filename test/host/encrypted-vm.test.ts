import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unwrapDek, WRAP_PREFIX } from '../../src/crypto/wrap.js';
import type { HostClient } from '../../src/host/client/host-client.js';
import { openSealedFile } from '../../src/host/keys/sealed-stream.js';
import { openVmx, readVmx } from '../../src/host/vm-files/vmx.js';
import { stopAll } from '../helpers/process.js';
import {
  exitsEventually, makeManagerIdentity, pairedClient, runProgram, scanForKeys, startAgentProcess, tempDir,
  type AgentProcess, type ManagerIdentity,
} from './harness.js';

// One encrypted VM without a guest OS, through the real agent process and real QEMU (TCG):
// pairing, crypto modes, qemu-io writes through QMP, ciphertext at rest, agent restart =
// locked until keys are pushed, no key bytes anywhere, tampering, snapshots, refusals.
interface Vm {
  uuid: string;
  vmx: string;
  crypto: { state: string; reason?: string };
  powerState: string;
  qemuPid?: number;
  disks?: Array<{ layers: Array<{ file: string; format: string }> }>;
  snapshots?: Array<{ id: string; name: string }>;
}

describe('host agent: encrypted VM without a guest OS', () => {
  let dir: { path: string; remove(): Promise<void> };
  let data: string;
  let agent: AgentProcess;
  let id: ManagerIdentity;
  let c: HostClient;
  let vm: Vm;
  const kek = randomBytes(32);
  const hostKey = randomBytes(32);
  const push = (): Promise<unknown> =>
    c.call('POST', '/v1/keys', { keys: [{ keyId: 'kek-1', key: kek.toString('base64') }, { keyId: 'hostkey-1', key: hostKey.toString('base64') }] });
  const io = async (command: string): Promise<string> => (await c.call<{ output: string }>('POST', `/v1/vms/${vm.uuid}/qemu-io`, { command })).output;
  const power = (action: string): Promise<Vm> => c.call<Vm>('POST', `/v1/vms/${vm.uuid}/power`, { action });

  beforeAll(async () => {
    dir = await tempDir('vmcrypt-host-');
    data = join(dir.path, 'data');
    id = await makeManagerIdentity();
    agent = await startAgentProcess(data, 'esx-a');
  });
  afterAll(async () => {
    await stopAll();
    await dir.remove();
  });

  it('shows its thumbprint, pairs once with the token, then serves only that manager', async () => {
    expect(agent.thumbprint).toMatch(/^[0-9a-f]{64}$/);
    expect(agent.pairingToken).toMatch(/^[0-9a-f]{32}$/);
    const { HostClient: Client } = await import('../../src/host/client/host-client.js');
    const first = new Client({ url: agent.url, certPem: id.certPem, keyPem: id.keyPem });
    expect(await first.thumbprint()).toBe(agent.thumbprint);
    await expect(first.call('GET', '/v1/host')).rejects.toMatchObject({ code: 'HOST_NOT_PAIRED' });
    await expect(first.call('POST', '/v1/pair', { token: '0'.repeat(32) })).rejects.toMatchObject({ code: 'HOST_PAIRING_REJECTED' });
    c = await pairedClient(agent, id);
    const info = await c.call<{ name: string; thumbprint: string; cryptoMode: string }>('GET', '/v1/host');
    expect(info).toMatchObject({ name: 'esx-a', thumbprint: agent.thumbprint, cryptoMode: 'incapable' });
    const other = await makeManagerIdentity();
    const intruder = new Client({ url: agent.url, certPem: other.certPem, keyPem: other.keyPem, thumbprint: agent.thumbprint });
    await expect(intruder.call('GET', '/v1/host')).rejects.toMatchObject({ code: 'HOST_FORBIDDEN' });
    await expect(intruder.call('POST', '/v1/pair', { token: agent.pairingToken })).rejects.toMatchObject({ code: 'HOST_PAIRING_REJECTED' });
    const wrongPin = new Client({ url: agent.url, certPem: id.certPem, keyPem: id.keyPem, thumbprint: 'ab'.repeat(32) });
    await expect(wrongPin.call('GET', '/v1/host')).rejects.toMatchObject({ code: 'HOST_FORBIDDEN' });
  });

  it('goes incapable → prepared → safe with a pushed host key; lists key ids, never bytes', async () => {
    await expect(push()).rejects.toMatchObject({ code: 'HOST_CRYPTO_MODE' });
    await c.call('POST', '/v1/host/crypto-mode', { mode: 'prepared' });
    await expect(c.call('POST', '/v1/host/crypto-mode', { mode: 'safe', hostKeyId: 'hostkey-1' })).rejects.toMatchObject({ code: 'HOST_KEY_MISSING' });
    const listed = await push();
    expect(listed).toEqual({ keyIds: ['hostkey-1', 'kek-1'] });
    const info = await c.call<Record<string, unknown>>('POST', '/v1/host/crypto-mode', { mode: 'safe', hostKeyId: 'hostkey-1' });
    expect(info).toMatchObject({ cryptoMode: 'safe', hostKeyId: 'hostkey-1', hostKeyPresent: true });
    expect(JSON.stringify(info)).not.toContain(hostKey.toString('base64'));
  });

  it('refuses serial/parallel ports on an encrypted VM, creates one with a LUKS1 disk', async () => {
    const base = { name: 'vm1', memoryMiB: 128, disks: [{ sizeBytes: 16 << 20 }], encryption: { providerId: 'kp-1', keyId: 'kek-1' } };
    await expect(c.call('POST', '/v1/vms', { ...base, serialPorts: 1 })).rejects.toMatchObject({ code: 'HOST_UNSUPPORTED_ENCRYPTED' });
    await expect(c.call('POST', '/v1/vms', { ...base, parallelPorts: 1 })).rejects.toMatchObject({ code: 'HOST_UNSUPPORTED_ENCRYPTED' });
    vm = await c.call<Vm>('POST', '/v1/vms', base);
    expect(vm).toMatchObject({ encrypted: true, storagePolicy: 'VM Encryption Policy', crypto: { state: 'unlocked' }, powerState: 'poweredOff' });
    const disk = join(data, 'datastores', 'local', 'vm1', 'vm1-disk0.luks');
    const luks = await runProgram('cryptsetup', ['luksDump', disk]);
    expect(luks).toMatch(/Version:\s+1/);
    expect(luks).toContain('xts-plain64');
    const vmx = JSON.parse(await readFile(vm.vmx, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(vmx).sort()).toEqual(['createdAt', 'encrypted', 'format', 'keySafe', 'name', 'storagePolicy', 'uuid']);
    expect(JSON.stringify(vmx)).not.toContain('vm1-disk0.luks'); // disk list is in the encrypted section
  });

  it('writes through qemu-io over QMP, reads back after a VM restart; the disk file holds ciphertext', async () => {
    vm = await power('on');
    expect(vm.powerState).toBe('poweredOn');
    expect(await io('write -P 0x5a 0 64k')).toContain('wrote 65536/65536 bytes at offset 0');
    expect(await io('read -P 0x5a 0 64k')).toContain('read 65536/65536 bytes');
    await power('off');
    const disk = await readFile(join(data, 'datastores', 'local', 'vm1', 'vm1-disk0.luks'));
    expect(disk.includes(Buffer.alloc(4096, 0x5a))).toBe(false);
    vm = await power('on');
    const back = await io('read -P 0x5a 0 64k');
    expect(back).toContain('read 65536/65536 bytes');
    expect(back).not.toContain('Pattern verification failed');
    expect(await io('read -P 0x11 0 512')).toContain('Pattern verification failed');
  });

  it('has no KEK or DEK bytes (raw, hex, base64) in any file or in the agent/QEMU command lines', async () => {
    vm = await c.call<Vm>('GET', `/v1/vms/${vm.uuid}`);
    expect(vm.qemuPid).toBeGreaterThan(0);
    const doc = await readVmx(vm.vmx);
    const { config, vmDek } = openVmx(doc, kek, vm.vmx);
    const deks = [vmDek, ...config.disks.flatMap((d) => d.layers.map((l) => unwrapDek(kek, l.wrappedDek ?? '', 'kek-1')))];
    const hits = await scanForKeys(data, [agent.proc.child.pid ?? 0, vm.qemuPid ?? 0], [kek, hostKey, ...deks]);
    expect(hits).toEqual([]);
    const qemuCmdline = await readFile(`/proc/${vm.qemuPid ?? 0}/cmdline`, 'utf8');
    expect(qemuCmdline).toContain('accel=tcg');
    expect(qemuCmdline).toContain('secret,id=sec-d0l0,format=raw,file=');
    // a crashing QEMU leaves no core file with keys or guest RAM in clear
    expect(qemuCmdline).toContain('dump-guest-core=off');
    expect(await readFile(`/proc/${vm.qemuPid ?? 0}/limits`, 'utf8')).toMatch(/^Max core file size\s+0\s+0\s/m);
    // nor does the agent, whose memory holds the key cache
    expect(await readFile(`/proc/${agent.proc.child.pid ?? 0}/limits`, 'utf8')).toMatch(/^Max core file size\s+0\s+0\s/m);
  });

  it('refuses suspend and memory snapshots; dumps guest memory encrypted', async () => {
    await expect(power('suspend')).rejects.toMatchObject({ code: 'HOST_UNSUPPORTED_ENCRYPTED' });
    await expect(c.call('POST', `/v1/vms/${vm.uuid}/snapshots`, { name: 'm', memory: true })).rejects.toMatchObject({ code: 'HOST_UNSUPPORTED_ENCRYPTED' });
    const { file } = await c.call<{ file: string }>('POST', `/v1/vms/${vm.uuid}/memory-dump`, {});
    expect(file).toMatch(/\.vmem\.sealed$/);
    const raw = await readFile(file, { encoding: null }).then((b) => b.subarray(0, 64 << 10));
    expect(raw.includes(Buffer.from('\x7fELF'))).toBe(false);
    const doc = await readVmx(vm.vmx);
    const { vmDek } = openVmx(doc, kek, vm.vmx);
    let first: Buffer | undefined;
    let total = 0;
    await openSealedFile(file, vmDek, async (p) => {
      first ??= Buffer.from(p.subarray(0, 4));
      total += p.length;
    });
    expect(first?.toString('latin1')).toBe('\x7fELF');
    expect(total).toBeGreaterThan(128 << 20);
    await power('off');
  });

  it('takes a disk-only snapshot of the running VM (overlay key through a FIFO named in QMP object-add), reverts to it powered off', async () => {
    await power('on');
    const snap = await c.call<{ id: string }>('POST', `/v1/vms/${vm.uuid}/snapshots`, { name: 'live-1' });
    await io('write -P 0x44 0 4k');
    expect(await io('read -P 0x44 0 4k')).toContain('read 4096/4096 bytes');
    await expect(c.call('POST', `/v1/vms/${vm.uuid}/snapshots/${snap.id}/revert`, {})).rejects.toMatchObject({ code: 'HOST_POWER_STATE' });
    const running = await c.call<Vm>('GET', `/v1/vms/${vm.uuid}`);
    const cmdline = await readFile(`/proc/${running.qemuPid ?? 0}/cmdline`, 'utf8');
    const doc = await readVmx(vm.vmx);
    const { config, vmDek } = openVmx(doc, kek, vm.vmx);
    const deks = [vmDek, ...config.disks.flatMap((d) => d.layers.map((l) => unwrapDek(kek, l.wrappedDek ?? '', 'kek-1')))];
    expect(deks.length).toBe(3);
    expect(await scanForKeys(data, [running.qemuPid ?? 0], deks)).toEqual([]);
    expect(cmdline).not.toContain('qcow2');
    await power('off');
    await c.call('POST', `/v1/vms/${vm.uuid}/snapshots/${snap.id}/revert`, {});
    await power('on');
    expect(await io('read -P 0x5a 0 64k')).toContain('read 65536/65536 bytes');
    await power('off');
    vm = await c.call<Vm>('DELETE', `/v1/vms/${vm.uuid}/snapshots/${snap.id}`);
    expect(vm.disks?.[0]?.layers.map((l) => l.format)).toEqual(['luks']);
  });

  it('kill -9 the agent (host reboot): VMs locked with the reason; push keys: unlocked, power on works', async () => {
    const qemuPid = (await power('on')).qemuPid ?? 0;
    expect(qemuPid).toBeGreaterThan(0);
    await agent.proc.kill();
    // QEMU dies with its agent (parent-death signal), before any new agent could reap it
    expect(await exitsEventually(qemuPid)).toBe(true);
    agent = await startAgentProcess(data, 'esx-a');
    expect(agent.pairingToken).toBeUndefined();
    const { HostClient: Client } = await import('../../src/host/client/host-client.js');
    c = new Client({ url: agent.url, certPem: id.certPem, keyPem: id.keyPem, thumbprint: agent.thumbprint });
    const locked = await c.call<Vm>('GET', `/v1/vms/${vm.uuid}`);
    expect(locked.powerState).toBe('poweredOff');
    expect(locked.crypto.state).toBe('locked');
    expect(locked.crypto.reason).toContain('kek-1');
    expect(locked.disks).toBeUndefined();
    expect(await c.call('GET', '/v1/keys')).toEqual({ keyIds: [] });
    expect(await c.call('GET', '/v1/host')).toMatchObject({ cryptoMode: 'safe', hostKeyPresent: false, lockedVms: [vm.uuid] });
    await expect(power('on')).rejects.toMatchObject({ code: 'HOST_VM_LOCKED' });
    await push();
    const unlocked = await c.call<Vm>('GET', `/v1/vms/${vm.uuid}`);
    expect(unlocked.crypto.state).toBe('unlocked');
    const events = await c.call<{ events: Array<{ type: string; vmUuid?: string }> }>('GET', '/v1/events');
    expect(events.events).toContainEqual(expect.objectContaining({ type: 'vm.unlocked', vmUuid: vm.uuid }));
    await power('on');
    expect(await io('read -P 0x5a 0 64k')).toContain('read 65536/65536 bytes');
    await power('off');
  });

  it('keeps snapshots as encrypted qcow2 overlays with their own DEK: revert and delete', async () => {
    const snap = await c.call<{ id: string }>('POST', `/v1/vms/${vm.uuid}/snapshots`, { name: 'before-77' });
    vm = await c.call<Vm>('GET', `/v1/vms/${vm.uuid}`);
    const overlay = vm.disks?.[0]?.layers[1];
    expect(overlay?.format).toBe('qcow2');
    const info = await runProgram('qemu-img', ['info', '-U', join(data, 'datastores', 'local', 'vm1', overlay?.file ?? '')]);
    expect(info).toMatch(/encrypted: yes/);
    expect(info).toMatch(/format: luks/);
    await power('on');
    await io('write -P 0x77 0 4k');
    await power('off');
    await c.call('POST', `/v1/vms/${vm.uuid}/snapshots/${snap.id}/revert`, {});
    await power('on');
    expect(await io('read -P 0x5a 0 64k')).toContain('read 65536/65536 bytes');
    await io('write -P 0x66 0 4k');
    await power('off');
    vm = await c.call<Vm>('DELETE', `/v1/vms/${vm.uuid}/snapshots/${snap.id}`);
    expect(vm.snapshots).toEqual([]);
    expect(vm.disks?.[0]?.layers.map((l) => l.format)).toEqual(['luks']);
    await power('on');
    expect(await io('read -P 0x66 0 4k')).toContain('read 4096/4096 bytes');
    expect(await io('read -P 0x5a 4k 60k')).toContain('read 61440/61440 bytes');
    await power('off');
  });

  it('tampered .vmx (encrypted section, wrapped DEK) → clear error, nothing overwritten', async () => {
    const original = await readFile(vm.vmx, 'utf8');
    const doc = JSON.parse(original) as { encrypted: string; keySafe: { wrappedDek: string } };
    const flip = (b64: string, at: number): string => {
      const b = Buffer.from(b64, 'base64');
      b[at] = (b[at] ?? 0) ^ 0x01;
      return b.toString('base64');
    };
    const cases = [
      JSON.stringify({ ...doc, encrypted: flip(doc.encrypted, 60) }),
      JSON.stringify({ ...doc, keySafe: { ...doc.keySafe, wrappedDek: WRAP_PREFIX + flip(doc.keySafe.wrappedDek.slice(WRAP_PREFIX.length), 40) } }),
    ];
    for (const tampered of cases) {
      await writeFile(vm.vmx, tampered);
      const err = await power('on').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'HOST_VMX_TAMPERED' });
      expect((err as Error).message).toMatch(/modified|tampered/);
      await expect(c.call('POST', `/v1/vms/${vm.uuid}/snapshots`, { name: 'x' })).rejects.toMatchObject({ code: 'HOST_VMX_TAMPERED' });
      expect(await readFile(vm.vmx, 'utf8')).toBe(tampered);
      expect((await c.call<Vm>('GET', `/v1/vms/${vm.uuid}`)).powerState).toBe('poweredOff');
    }
    await writeFile(vm.vmx, original);
    await power('on');
    await power('off');
  });

  it('a second host sharing the datastore registers the VM: locked until its keys are pushed there', async () => {
    const dataB = join(dir.path, 'data-b');
    const agentB = await startAgentProcess(dataB, 'esx-b');
    const cb = await pairedClient(agentB, id);
    expect(agentB.thumbprint).not.toBe(agent.thumbprint);
    await cb.call('POST', '/v1/datastores', { name: 'shared', path: join(data, 'datastores', 'local') });
    const reg = await cb.call<Vm>('POST', '/v1/vms/register', { vmx: vm.vmx });
    expect(reg).toMatchObject({ uuid: vm.uuid, crypto: { state: 'locked' } });
    await cb.call('POST', '/v1/host/crypto-mode', { mode: 'prepared' });
    await cb.call('POST', '/v1/keys', { keys: [{ keyId: 'kek-1', key: kek.toString('base64') }] });
    expect((await cb.call<Vm>('GET', `/v1/vms/${vm.uuid}`)).crypto.state).toBe('unlocked');
    await expect(cb.call('POST', `/v1/vms/${vm.uuid}/power`, { action: 'on' })).rejects.toMatchObject({ code: 'HOST_CRYPTO_MODE' });
    await cb.call('POST', '/v1/keys', { keys: [{ keyId: 'hostkey-b', key: randomBytes(32).toString('base64') }] });
    await cb.call('POST', '/v1/host/crypto-mode', { mode: 'safe', hostKeyId: 'hostkey-b' });
    await cb.call('POST', `/v1/vms/${vm.uuid}/power`, { action: 'on' });
    const out = await cb.call<{ output: string }>('POST', `/v1/vms/${vm.uuid}/qemu-io`, { command: 'read -P 0x66 0 4k' });
    expect(out.output).toContain('read 4096/4096 bytes');
    await cb.call('POST', `/v1/vms/${vm.uuid}/power`, { action: 'off' });
    await agentB.proc.stop();
  });
});
