import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { stopAll } from '../../helpers/process.js';
import { waitFor } from '../../helpers/wait.js';
import { nativeRelay } from '../../../src/host/migration/relay-native.js';
import { tempDir } from '../harness.js';
import { FrameProxy, type Mutation } from './frame-proxy.js';
import { runningEncryptedVm, migrate, newMigration, ramDiff, readRam, sha256, startTwoHosts, type TwoHosts } from './migration-harness.js';

interface Vm {
  uuid: string;
  vmx: string;
  powerState: string;
}

// A proxy between the two agents' tunnel ends alters the sealed stream: the migration is
// aborted, the VM still runs on the source with the same RAM, the disk is unchanged, and the
// destination drops its incoming VM. Both data paths: the native relay (relay.c, when built)
// and Node's (agents started with VMCRYPT_RELAY=node).
const paths = nativeRelay().addon !== undefined ? (['native', 'node'] as const) : (['node'] as const);
describe.each(paths)('live migration over the tunnel (%s data path): a tampered stream aborts it', (path) => {
  let dir: { path: string; remove(): Promise<void> };
  let h: TwoHosts;
  let vm: Vm;
  let ram: Buffer;
  let diskPath: string;
  let diskSum: string;

  beforeAll(async () => {
    dir = await tempDir('vmcrypt-migt-');
    if (path === 'node') process.env['VMCRYPT_RELAY'] = 'node';
    try {
      h = await startTwoHosts(dir.path);
    } finally {
      delete process.env['VMCRYPT_RELAY'];
    }
    // the agents say which path they use: the tunnel is their first channel only with the relay
    const { migration } = await h.a.c.call<{ migration: { channels: string[] } }>('GET', '/v1/host');
    expect(migration.channels[0]).toBe(path === 'native' ? 'tunnel' : 'qemu-psk');
    ({ vm, ram, diskPath, diskSum } = await runningEncryptedVm(h, 't1', 2 << 20, 0x5d, '128k'));
  }, 120_000);
  afterAll(async () => {
    await stopAll();
    await h?.remove();
    await dir?.remove();
  });

  const cases: Array<[Mutation, number, string[]]> = [
    ['flip', 5, ['HOST_MIGRATION_STREAM_TAMPERED']],
    ['drop', 5, ['HOST_MIGRATION_STREAM_TAMPERED']],
    ['replay', 5, ['HOST_MIGRATION_STREAM_TAMPERED']],
    // the proxy cuts both connections: the destination sees a truncated stream, the source a lost peer
    ['truncate', 5, ['HOST_MIGRATION_STREAM_TAMPERED', 'HOST_MIGRATION_FAILED']],
  ];
  for (const [mutation, at, codes] of cases) {
    it(`${mutation} frame ${at}: aborted (${codes.join(' or ')}), the VM runs on A unchanged, B dropped it`, async () => {
      // a rare hang of this case (twice in many runs, under load, not reproduced in 80 looped rounds): keep what the agents said
      onTestFailed(() => {
        for (const [name, host] of [['A', h.a], ['B', h.b]] as const) console.error(`agent ${name} (${path} path), last output:\n${host.agent.proc.output().slice(-3000)}`);
      });
      const m = newMigration();
      let proxy: FrameProxy | undefined;
      const err = await migrate(h.a, h.b, vm.uuid, vm.vmx, 'tunnel', m, async (e) => {
        proxy = new FrameProxy(e, mutation, at);
        return proxy.listen();
      }).then(() => undefined, (e: unknown) => e as { code?: string; message?: string });
      proxy?.close();
      expect(err?.code, err?.message).toBeDefined();
      expect(codes, err?.message).toContain(err?.code);
      const a = await h.a.c.call<Vm>('GET', `/v1/vms/${vm.uuid}`);
      expect(a.powerState).toBe('poweredOn');
      const st = await h.a.c.call<{ output: string }>('POST', `/v1/vms/${vm.uuid}/qemu-io`, { disk: 0, command: 'read -P 0x5d 0 128k' });
      expect(st.output).toContain('read 131072/131072');
      expect(ramDiff(await readRam(h.a, vm.uuid), ram)).toBe('');
      expect(await sha256(diskPath)).toBe(diskSum);
      await waitFor('B drops the incoming VM', async () => h.b.c.call('GET', `/v1/vms/${vm.uuid}`).then(() => false, (e: { code?: string }) => e.code === 'HOST_NOT_FOUND'), 30_000);
      expect((await h.b.c.abortMigration(m.migrationId)).aborted).toBe(false);
    });
  }

  it('after all that, a clean migration still goes through', async () => {
    const r = await migrate(h.a, h.b, vm.uuid, vm.vmx, 'tunnel');
    expect(r).toMatchObject({ encrypted: true });
    expect(ramDiff(await readRam(h.b, vm.uuid), ram)).toBe('');
  });

  it('DELETE /v1/migrations/{id} drops an incoming VM before any stream; the running VM is untouched', async () => {
    const m = newMigration();
    const inc = await h.a.c.migrationIncoming({ migrationId: m.migrationId, vmId: vm.uuid, vmxPath: vm.vmx, channel: 'tunnel', key: m.key, nonce: m.nonce });
    expect(inc.endpoint.port).toBeGreaterThan(0);
    expect((await h.a.c.call<Vm>('GET', `/v1/vms/${vm.uuid}`)).uuid).toBe(vm.uuid);
    expect(await h.a.c.abortMigration(m.migrationId)).toEqual({ migrationId: m.migrationId, aborted: true });
    await expect(h.a.c.call('GET', `/v1/vms/${vm.uuid}`)).rejects.toMatchObject({ code: 'HOST_NOT_FOUND' });
    expect((await h.a.c.abortMigration(m.migrationId)).aborted).toBe(false);
    expect((await h.b.c.call<Vm>('GET', `/v1/vms/${vm.uuid}`)).powerState).toBe('poweredOn');
    expect(ramDiff(await readRam(h.b, vm.uuid), ram)).toBe('');
  });
});
