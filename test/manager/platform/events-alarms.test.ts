import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EntityKind, ROOT, type ManagerEvent } from '../../../src/manager/contracts.js';
import type { ManagerPlatform } from '../../../src/manager/platform/platform.js';
import { ManualClock, openPlatform, tempDir } from './fixture.js';

const vm1 = { kind: EntityKind.VM, id: 'vm-1' };
const kp = { kind: EntityKind.KEY_PROVIDER, id: 'kp-1' };
const host = { kind: EntityKind.HOST, id: 'host-1' };

describe('events and alarms', () => {
  let t: Awaited<ReturnType<typeof tempDir>>;
  let p: ManagerPlatform;
  const clock = new ManualClock();
  beforeEach(async () => {
    t = await tempDir();
    p = await openPlatform(t.dir, clock);
  });
  afterEach(async () => {
    p.close();
    await t.cleanup();
  });

  it('persists events and filters by cursor, entity, type prefix and severity', async () => {
    const seen: ManagerEvent[] = [];
    const off = p.eventLog.subscribe((e) => seen.push(e));
    p.events.post({ type: 'vm.locked.kmsClusterError', severity: 'critical', message: 'locked', entity: vm1, data: { keyId: 'k1' } });
    p.events.post({ type: 'vm.unlocked', severity: 'info', message: 'unlocked', entity: vm1 });
    p.events.post({ type: 'kms.unreachable', severity: 'critical', message: 'no server answers', entity: kp });
    off();
    p.events.post({ type: 'host.cryptoEnabled', severity: 'info', message: 'crypto safe', entity: host });
    expect(seen.map((e) => e.type)).toEqual(['vm.locked.kmsClusterError', 'vm.unlocked', 'kms.unreachable']);

    expect(p.eventLog.list({ entity: vm1 }).map((e) => e.type)).toEqual(['vm.locked.kmsClusterError', 'vm.unlocked']);
    expect(p.eventLog.list({ type: 'vm.locked.*' }).map((e) => e.id)).toEqual([1]);
    expect(p.eventLog.list({ minSeverity: 'critical' }).map((e) => e.type)).toEqual(['vm.locked.kmsClusterError', 'kms.unreachable']);
    expect(p.eventLog.list({ afterId: 2, limit: 1 }).map((e) => e.id)).toEqual([3]);
    expect(p.eventLog.list({ limit: 2 }).map((e) => e.id)).toEqual([3, 4]);
    expect(p.eventLog.get(1)).toMatchObject({ entity: vm1, data: { keyId: 'k1' }, severity: 'critical' });

    // survives a restart
    p.close();
    p = await openPlatform(t.dir, clock);
    expect(p.eventLog.list().map((e) => e.id)).toEqual([1, 2, 3, 4]);
  });

  it('derives alarms from events: trigger, clear, health colours, root default, acknowledge', () => {
    p.events.post({ type: 'kms.unreachable', severity: 'critical', message: 'kp-1: no server answers', entity: kp });
    p.events.post({ type: 'vm.locked.keyMissingOnKms', severity: 'critical', message: 'vm-1 locked', entity: vm1 });
    p.events.post({ type: 'coredump.encryptedExists', severity: 'warning', message: 'encrypted core dump', entity: host });
    p.events.post({ type: 'key.createFailed', severity: 'critical', message: 'Create failed' });
    const active = p.alarms.list();
    expect(active.map((a) => [a.name, a.entity.kind, a.status])).toEqual([
      ['kms.connectivity', 'keyProvider', 'red'],
      ['vm.locked', 'vm', 'red'],
      ['host.encryptedCoredump', 'host', 'yellow'],
      ['key.create', 'root', 'red'],
    ]);
    expect(active[3]?.entity).toEqual(ROOT);

    const lockAlarm = active[1]!;
    clock.advance(1000);
    const acked = p.alarms.acknowledge(lockAlarm.id, 'alice');
    expect(acked.acknowledged).toEqual({ by: 'alice', at: clock.now().toISOString() });

    p.events.post({ type: 'vm.unlocked', severity: 'info', message: 'vm-1 unlocked', entity: vm1 });
    p.events.post({ type: 'kms.reachable', severity: 'info', message: 'kp-1 back', entity: kp });
    expect(p.alarms.list().map((a) => a.name)).toEqual(['host.encryptedCoredump', 'key.create']);
    expect(p.alarms.list({ active: false }).find((a) => a.name === 'vm.locked')?.status).toBe('green');
    expect(() => p.alarms.acknowledge(lockAlarm.id, 'alice')).toThrow(/rule: only a triggered alarm/);

    // a new occurrence needs a new acknowledgement
    p.events.post({ type: 'vm.locked.kmsClusterError', severity: 'critical', message: 'vm-1 locked again', entity: vm1 });
    const again = p.alarms.list({ entity: vm1 })[0]!;
    expect(again.id).toBe(lockAlarm.id);
    expect(again.acknowledged).toBeUndefined();
    expect(again.message).toBe('vm-1 locked again');
  });

  it('kms.health sets green/yellow/red from its data; a clearing event for no alarm does nothing', () => {
    p.events.post({ type: 'vm.unlocked', severity: 'info', message: 'nothing was locked', entity: vm1 });
    expect(p.alarms.list({ active: false })).toEqual([]);
    p.events.post({ type: 'kms.health', severity: 'warning', message: 'one server down', entity: kp, data: { status: 'yellow' } });
    expect(p.alarms.list()[0]).toMatchObject({ name: 'kms.health', status: 'yellow' });
    p.events.post({ type: 'kms.health', severity: 'critical', message: 'all down', entity: kp, data: { status: 'red' } });
    expect(p.alarms.list()[0]).toMatchObject({ name: 'kms.health', status: 'red' });
    p.events.post({ type: 'kms.health', severity: 'info', message: 'all up', entity: kp, data: { status: 'green' } });
    expect(p.alarms.list()).toEqual([]);
    p.events.post({ type: 'kms.certExpiring', severity: 'warning', message: 'expires in 20 days', entity: kp });
    p.events.post({ type: 'vm.diskChainMixedKeys', severity: 'error', message: 'mixed', entity: vm1 });
    p.events.post({ type: 'vm.rekeyFailed', severity: 'error', message: 'rekey failed', entity: vm1 });
    p.events.post({ type: 'vm.crypto.noDiskSpace', severity: 'error', message: 'no space', entity: vm1 });
    expect(p.alarms.list().map((a) => `${a.name}:${a.status}`)).toEqual([
      'kms.certificate:yellow',
      'vm.diskChain:red',
      'vm.rekey:red',
      'vm.diskSpace:red',
    ]);
  });
});
