import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll } from '../../helpers/process.js';
import { scanForKeys, tempDir } from '../harness.js';
import { runningEncryptedVm, fillRam, migrate, newMigration, ramDiff, readRam, sha256, startTwoHosts, type TwoHosts } from './migration-harness.js';
import { nativeRelay } from '../../../src/host/migration/relay-native.js';

interface Vm {
  uuid: string;
  vmx: string;
  powerState: string;
  disks?: Array<{ layers: Array<{ file: string }> }>;
}

// Live migration between two real agents on one shared datastore: encrypted (tunnel, qemu-psk)
// and plain; guest RAM (a file-backed memory object the test fills) and disks equal after.
describe('live migration between two host agents', () => {
  let dir: { path: string; remove(): Promise<void> };
  let h: TwoHosts;
  let vm: Vm;
  let ram: Buffer;
  let diskPath: string;
  let diskSum: string;
  const oneTimeKeys: Buffer[] = [];

  beforeAll(async () => {
    dir = await tempDir('vmcrypt-mig-');
    h = await startTwoHosts(dir.path);
    ({ vm, ram, diskPath, diskSum } = await runningEncryptedVm(h, 'm1', 4 << 20, 0x3c, '256k'));
  }, 120_000);
  afterAll(async () => {
    await stopAll();
    await h?.remove();
    await dir?.remove();
  });

  it('GET /v1/host shows the migration capability', async () => {
    // the tunnel first when its native relay is built (docs/migration.md), else QEMU's TLS-PSK
    const channels = nativeRelay().addon !== undefined ? ['tunnel', 'qemu-psk', 'plain'] : ['qemu-psk', 'tunnel', 'plain'];
    expect((await h.a.c.call<{ migration: unknown }>('GET', '/v1/host')).migration).toEqual({ encryption: true, channels });
  });

  it('an encrypted VM is refused the plain channel on both ends', async () => {
    const m = newMigration();
    await expect(h.b.c.migrationIncoming({ migrationId: m.migrationId, vmId: vm.uuid, vmxPath: vm.vmx, channel: 'plain' })).rejects.toMatchObject({ code: 'HOST_RULE' });
    await expect(h.a.c.migrateVm(vm.uuid, { migrationId: m.migrationId, endpoint: { host: '127.0.0.1', port: 9 }, channel: 'plain' })).rejects.toMatchObject({ code: 'HOST_RULE' });
  });

  it('tunnel A → B: the VM runs on B with the same RAM and disk; gone from A', async () => {
    const m = newMigration();
    oneTimeKeys.push(m.key);
    const r = await migrate(h.a, h.b, vm.uuid, vm.vmx, 'tunnel', m);
    expect(r).toMatchObject({ migrationId: m.migrationId, channel: 'tunnel', encrypted: true });
    expect(r['bytes']).toBeGreaterThan(ram.length);
    expect((await h.b.c.call<Vm>('GET', `/v1/vms/${vm.uuid}`)).powerState).toBe('poweredOn');
    await expect(h.a.c.call('GET', `/v1/vms/${vm.uuid}`)).rejects.toMatchObject({ code: 'HOST_NOT_FOUND' });
    // arrived: B's registration is its own now (a restart of B keeps it)
    const bState = JSON.parse(await readFile(join(h.b.dataDir, 'host.json'), 'utf8')) as { vms: Array<{ uuid: string; incoming?: string }> };
    expect(bState.vms.find((v) => v.uuid === vm.uuid)).toEqual({ uuid: vm.uuid, vmx: vm.vmx });
    expect(ramDiff(await readRam(h.b, vm.uuid), ram)).toBe('');
    expect(await sha256(diskPath)).toBe(diskSum);
    const out = await h.b.c.call<{ output: string }>('POST', `/v1/vms/${vm.uuid}/qemu-io`, { disk: 0, command: 'read -P 0x3c 0 256k' });
    expect(out.output).toContain('read 262144/262144');
    const events = await h.a.c.call<{ events: Array<{ type: string }> }>('GET', '/v1/events');
    expect(events.events.map((e) => e.type)).toContain('vm.migratedAway');
  });

  it('qemu-psk B → A: back on A, RAM and disk equal', async () => {
    const m = newMigration();
    oneTimeKeys.push(m.key);
    const r = await migrate(h.b, h.a, vm.uuid, vm.vmx, 'qemu-psk', m);
    expect(r).toMatchObject({ channel: 'qemu-psk', encrypted: true });
    expect(ramDiff(await readRam(h.a, vm.uuid), ram)).toBe('');
    expect(await sha256(diskPath)).toBe(diskSum);
    await expect(h.b.c.call('GET', `/v1/vms/${vm.uuid}`)).rejects.toMatchObject({ code: 'HOST_NOT_FOUND' });
  });

  it('qemu-psk and tunnel to a destination that is gone: HOST_MIGRATION_FAILED, the VM still runs on A unchanged', async () => {
    const m = newMigration();
    oneTimeKeys.push(m.key);
    const inc = await h.b.c.migrationIncoming({ migrationId: m.migrationId, vmId: vm.uuid, vmxPath: vm.vmx, channel: 'qemu-psk', key: m.key, nonce: m.nonce });
    expect((await h.b.c.abortMigration(m.migrationId)).aborted).toBe(true);
    for (const channel of ['qemu-psk', 'tunnel'] as const) {
      await expect(h.a.c.migrateVm(vm.uuid, { migrationId: m.migrationId, endpoint: inc.endpoint, channel, key: m.key, nonce: m.nonce })).rejects.toMatchObject({ code: 'HOST_MIGRATION_FAILED' });
      expect((await h.a.c.call<Vm>('GET', `/v1/vms/${vm.uuid}`)).powerState).toBe('poweredOn');
    }
    expect(ramDiff(await readRam(h.a, vm.uuid), ram)).toBe('');
    const out = await h.a.c.call<{ output: string }>('POST', `/v1/vms/${vm.uuid}/qemu-io`, { disk: 0, command: 'read -P 0x3c 0 256k' });
    expect(out.output).toContain('read 262144/262144');
  });

  it('plain A → B for a plain VM', async () => {
    const p = await h.a.c.call<Vm>('POST', '/v1/vms', { name: 'p1', datastore: 'shared', memoryMiB: 64, disks: [{ sizeBytes: 1 << 20 }] });
    await h.a.c.call('POST', `/v1/vms/${p.uuid}/power`, { action: 'on' });
    // (the disk I/O also lets the firmware settle before the RAM is filled)
    await h.a.c.call('POST', `/v1/vms/${p.uuid}/qemu-io`, { disk: 0, command: 'write -P 0x6a 0 64k' });
    await h.a.c.call('POST', `/v1/vms/${p.uuid}/qemu-io`, { disk: 0, command: 'flush' });
    const pram = await fillRam(h.a, p.uuid);
    const r = await migrate(h.a, h.b, p.uuid, p.vmx, 'plain');
    expect(r).toMatchObject({ channel: 'plain', encrypted: false });
    expect(ramDiff(await readRam(h.b, p.uuid), pram)).toBe('');
    const out = await h.b.c.call<{ output: string }>('POST', `/v1/vms/${p.uuid}/qemu-io`, { disk: 0, command: 'read -P 0x6a 0 64k' });
    expect(out.output).toContain('read 65536/65536');
    await h.b.c.call('POST', `/v1/vms/${p.uuid}/power`, { action: 'off' });
  });

  it('no key (one-time or KEK) in any file or command line of either host', async () => {
    const pids = [h.a.agent.proc.child.pid ?? 0, h.b.agent.proc.child.pid ?? 0];
    const keys = [...oneTimeKeys, ...Object.values(h.keys)];
    expect(await scanForKeys(dir.path, pids, keys)).toEqual([]);
    expect(await scanForKeys(h.a.ramDir, [], oneTimeKeys)).toEqual([]);
    // the PSK directories on tmpfs are gone (any left by another run hold none of our keys)
    for (const d of (await readdir('/dev/shm')).filter((n) => n.startsWith('vmcrypt-psk-'))) {
      expect(await scanForKeys(join('/dev/shm', d), [], oneTimeKeys).catch(() => [])).toEqual([]);
    }
  });
});
