import { describe, expect, it } from 'vitest';
import { chooseChannel, parseCapability } from '../../../src/manager/inventory/ops/migrate-policy.js';
import { MigrationService } from '../../../src/manager/inventory/ops/migrate-service.js';
import { progressOf } from '../../../src/manager/inventory/ops/migrate-host.js';
import { HostApiError } from '../../../src/host/client/host-client.js';
import { ALICE, KEY, migrationSetup, UUID } from './fakes.js';

const able = { encryption: true, channels: ['tunnel', 'qemu-psk', 'plain'] };
const unable = { encryption: false, channels: ['plain'] };
const names = { vm: 'web1', source: 'esx1', destination: 'esx2' };

describe('migrateEncryption matrix (seed 002)', () => {
  const cases = [
    // setting, encrypted VM, source, destination → channel | refused
    ['disabled', false, able, able, 'plain'], ['disabled', false, able, unable, 'plain'],
    ['opportunistic', false, able, able, 'tunnel'], ['opportunistic', false, unable, able, 'plain'],
    ['required', false, able, able, 'tunnel'], ['required', false, able, unable, 'refused'],
    ['disabled', true, able, able, 'tunnel'], ['disabled', true, unable, able, 'refused'],
    ['opportunistic', true, able, unable, 'refused'], ['required', true, unable, unable, 'refused'],
  ] as const;
  for (const [setting, enc, src, dst, want] of cases) {
    it(`${setting}, ${enc ? 'encrypted' : 'plain'} VM, source ${src.encryption ? 'able' : 'unable'}, destination ${dst.encryption ? 'able' : 'unable'} → ${want}`, () => {
      if (want === 'refused') {
        expect(() => chooseChannel(setting, enc, src, dst, names)).toThrow(/rule: migrate-encryption-required/);
        return;
      }
      const c = chooseChannel(setting, enc, src, dst, names);
      expect(c.channel).toBe(want);
      expect(c.encrypted).toBe(want !== 'plain');
      // only an opportunistic VM that could not encrypt says why (the warning event)
      expect(c.fellBack !== undefined).toBe(setting === 'opportunistic' && want === 'plain');
    });
  }

  it('picks the source\'s preferred encrypted channel both have; a host that says nothing cannot', () => {
    expect(chooseChannel('opportunistic', false, { encryption: true, channels: ['qemu-psk', 'tunnel'] }, able, names).channel).toBe('qemu-psk');
    expect(parseCapability({ name: 'x' })).toEqual({ encryption: false, channels: [] });
    expect(parseCapability({ migration: { encryption: true, channels: ['tunnel', 7, 'x'.repeat(40)] } })).toEqual({ encryption: true, channels: ['tunnel'] });
  });

  it('reads progress events of its own migration only, fields at the top or under data', () => {
    const r = progressOf({ events: [
      { seq: 4, type: 'vm.migration.progress', migrationId: 'm-1', bytes: 10, totalBytes: 100, remainingBytes: 90, mbPerSec: 12.5 },
      { seq: 5, type: 'vm.migration.progress', data: { migrationId: 'm-2', bytes: 50 } },
      { seq: 6, type: 'vm.poweredOn' },
    ] }, 'm-1');
    expect(r).toEqual({ seq: 6, progress: { bytes: 10, totalBytes: 100, remainingBytes: 90, mbPerSec: 12.5 } });
  });
});

describe('migration within one manager (fake hosts)', () => {
  it('live, encrypted: keys to the destination first, one key given to both hosts, record moved, keys dropped from the source, events', async () => {
    const s = migrationSetup();
    const seen: Array<Record<string, unknown>> = [];
    s.gw.on(s.h2.id, 'POST', '/v1/migrations/incoming', (b) => {
      seen.push(b as Record<string, unknown>);
      expect(s.keys.pushedTo).toEqual([{ hostId: s.h2.id, keys: [KEY] }]);
      return { migrationId: (b as { migrationId: string }).migrationId, endpoint: { host: '127.0.0.1', port: 4444 } };
    });
    s.gw.on(s.h1.id, 'POST', `/v1/vms/${UUID}/migrate`, (b) => {
      seen.push(b as Record<string, unknown>);
      return { migrationId: (b as { migrationId: string }).migrationId, channel: 'tunnel', bytes: 1 << 20, seconds: 1, mbPerSec: 1, downtimeMs: 42, encrypted: true };
    });
    const t = await new MigrationService(s.d).migrate(UUID, { host: 'esx2' }, ALICE);
    const done = await s.tasks.wait(t.id);
    expect(done.state, JSON.stringify(done.error)).toBe('success');
    expect(done.result).toMatchObject({ mode: 'live', channel: 'tunnel', encrypted: true, downtimeMs: 42, hostId: s.h2.id });
    const [inc, mig] = seen;
    expect(inc?.['channel']).toBe('tunnel');
    expect(Buffer.from(String(inc?.['key']), 'base64')).toHaveLength(32);
    expect(Buffer.from(String(inc?.['nonce']), 'base64')).toHaveLength(8);
    expect(mig?.['key']).toBe(inc?.['key']);
    expect(mig?.['endpoint']).toEqual({ host: '127.0.0.1', port: 4444 });
    expect(s.vms.require(UUID).hostId).toBe(s.h2.id);
    expect(s.keys.dropped).toEqual([{ hostId: s.h1.id, keys: [KEY] }]);
    expect(s.events.posted.map((e) => e.type)).toEqual(['vm.migratingWithEncryption', 'vm.migrated']);
    expect(JSON.stringify(s.events.posted)).not.toContain(String(inc?.['key']));
    expect(s.access.checked).toContain('Cryptographer.Migrate');
    expect(s.migrating.get(UUID)).toBeUndefined();
  });

  it('a failed stream: the destination is told to abort, the VM stays on the source, keys leave the destination, vm.migrationFailed', async () => {
    const s = migrationSetup();
    s.gw.on(s.h2.id, 'POST', '/v1/migrations/incoming', () => ({ migrationId: 'x', endpoint: { host: '127.0.0.1', port: 4444 } }));
    s.gw.on(s.h1.id, 'POST', `/v1/vms/${UUID}/migrate`, () => {
      throw new HostApiError('HOST_MIGRATION_STREAM_TAMPERED', 'frame 3: bad tag', 502);
    });
    let aborted = 0;
    const svc = new MigrationService(s.d);
    const origCall = s.gw.call.bind(s.gw);
    s.gw.call = async (h, m, p, b) => {
      if (m === 'DELETE' && p.startsWith('/v1/migrations/')) {
        aborted++;
        return { aborted: true } as never;
      }
      return origCall(h, m, p, b);
    };
    const done = await s.tasks.wait((await svc.migrate(UUID, { host: s.h2.id }, ALICE)).id);
    expect(done.state).toBe('error');
    expect(done.error?.message).toMatch(/HOST_MIGRATION_STREAM_TAMPERED/);
    expect(aborted).toBe(1);
    expect(s.vms.require(UUID).hostId).toBe(s.h1.id);
    expect(s.keys.dropped).toEqual([{ hostId: s.h2.id, keys: [KEY] }]);
    expect(s.events.posted.map((e) => e.type)).toEqual(['vm.migratingWithEncryption', 'vm.migrationFailed']);
    expect(s.migrating.get(UUID)).toBeUndefined();
  });

  it('opportunistic plain VM to a host that cannot encrypt: plain with the warning; required: refused before anything moves', async () => {
    const s = migrationSetup({ encrypted: false });
    s.gw.on(s.h2.id, 'GET', '/v1/host', () => ({ migration: { encryption: false, channels: ['plain'] } }));
    s.gw.on(s.h2.id, 'POST', '/v1/migrations/incoming', (b) => {
      expect(b).not.toHaveProperty('key');
      return { migrationId: 'x', endpoint: { host: '127.0.0.1', port: 4444 } };
    });
    s.gw.on(s.h1.id, 'POST', `/v1/vms/${UUID}/migrate`, () => ({ channel: 'plain', bytes: 1, seconds: 1, mbPerSec: 1, downtimeMs: 5, encrypted: false }));
    s.d.settings.set(UUID, { migrateEncryption: 'required' });
    const svc = new MigrationService(s.d);
    await expect(svc.migrate(UUID, { host: 'esx2' }, ALICE)).rejects.toThrow(/host esx2 cannot encrypt migrations \(rule: migrate-encryption-required\)/);
    expect(s.gw.calls.filter((c) => c.includes('POST'))).toEqual([]);
    s.d.settings.set(UUID, { migrateEncryption: 'opportunistic' });
    const done = await s.tasks.wait((await svc.migrate(UUID, { host: 'esx2' }, ALICE)).id);
    expect(done.result).toMatchObject({ channel: 'plain', encrypted: false });
    expect(s.events.posted.map((e) => [e.type, e.severity])).toEqual([['vm.migration.plain', 'warning'], ['vm.migrated', 'info']]);
  });

  it('powered off: registered on the destination, unregistered from the source, no stream; storage migration relocates on the host', async () => {
    const s = migrationSetup({ power: 'poweredOff' });
    s.gw.on(s.h2.id, 'POST', '/v1/vms/register', () => s.hostVm()).on(s.h1.id, 'DELETE', `/v1/vms/${UUID}`, () => ({}));
    const svc = new MigrationService(s.d);
    const cold = await s.tasks.wait((await svc.migrate(UUID, { host: 'esx2' }, ALICE)).id);
    expect(cold.result).toMatchObject({ mode: 'cold', encrypted: false });
    expect(s.gw.calls.some((c) => c.includes('/migrate') || c.includes('/v1/migrations'))).toBe(false);
    expect(s.vms.require(UUID).hostId).toBe(s.h2.id);
    s.gw.on(s.h2.id, 'POST', `/v1/vms/${UUID}/relocate`, (b) => {
      expect(b).toEqual({ datastore: 'other' });
      return { vmxPath: '/ds/other/web1/web1.vmx', bytes: 4096, seconds: 1 };
    });
    s.gw.on(s.h2.id, 'GET', `/v1/vms/${UUID}`, () => s.hostVm('/ds/other'));
    const moved = await s.tasks.wait((await svc.migrate(UUID, { datastore: 'other' }, ALICE)).id);
    expect(moved.result).toMatchObject({ mode: 'storage', bytes: 4096, datastoreId: s.other.id });
    expect(s.vms.require(UUID)).toMatchObject({ datastoreId: s.other.id, vmxPath: '/ds/other/web1/web1.vmx' });
  });

  it('refusals: a datastore the destination lacks, a second migration, a missing Cryptographer.Migrate', async () => {
    const s = migrationSetup();
    const svc = new MigrationService(s.d);
    await expect(svc.migrate(UUID, { host: 'esx2', datastore: 'solo' }, ALICE)).rejects.toThrow(/rule: migrate-shared-datastore/);
    s.migrating.begin(UUID, { migrationId: 'm-0', vmName: 'web1', to: 'host esx9', startedAt: 'now' });
    await expect(svc.migrate(UUID, { host: 'esx2' }, ALICE)).rejects.toThrow(/migrating to host esx9 \(migration m-0.*rule: vm-migrating/);
    s.migrating.end(UUID, 'm-0');
    s.access.denied.add('Cryptographer.Migrate');
    await expect(svc.migrate(UUID, { host: 'esx2' }, ALICE)).rejects.toThrow(/Cryptographer.Migrate/);
    expect(s.gw.calls.filter((c) => !c.includes(' GET '))).toEqual([]);
  });
});
