import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { Registry } from 'prom-client';
import { HostMonitor } from '../../../src/manager/inventory/hosts/host-monitor.js';
import { readHostEvents } from '../../../src/manager/inventory/hosts/host-events-feed.js';
import { VmObserver } from '../../../src/manager/inventory/hosts/vm-observer.js';
import { DatastoreStore } from '../../../src/manager/inventory/store/datastore-store.js';
import { HostStore } from '../../../src/manager/inventory/store/host-store.js';
import { PolicyStore } from '../../../src/manager/inventory/store/policy-store.js';
import { VmStore } from '../../../src/manager/inventory/store/vm-store.js';
import { FakeEvents, FakeHosts, FakeKeys, inventoryDb } from './fakes.js';

const T = (n: number) => `2030-01-01T00:00:0${n}.000Z`;

function setup() {
  const db = inventoryDb();
  const hosts = new HostStore(db);
  const datastores = new DatastoreStore(db);
  const vms = new VmStore(db);
  const h = hosts.insert({ name: 'esx1', url: 'https://127.0.0.1:1', thumbprint: 'a'.repeat(64), cryptoMode: 'safe' });
  datastores.attach(h.id, 'esx1', '/ds/local', 'local', 'esx1-local');
  const gw = new FakeHosts();
  const keys = new FakeKeys();
  const events = new FakeEvents();
  const log = pino({ level: 'silent' });
  const observer = new VmObserver({ vms, datastores, policies: new PolicyStore(db), hosts, events, log });
  const monitor = new HostMonitor({ hosts, gateway: gw, observer, keys: () => keys, events, log, metrics: new Registry() }, { failuresBeforeNotResponding: 1, unlockRetryMs: 0, maxUnlockRetryMs: 0 });
  let feed: object[] = [];
  let info: Record<string, unknown> = { name: 'esx1', thumbprint: 'a'.repeat(64), cryptoMode: 'safe', lockedVms: [] };
  let vmList: object[] = [];
  gw.on(h.id, 'GET', '/v1/host', () => info);
  gw.on(h.id, 'GET', '/v1/vms', () => ({ vms: vmList }));
  for (let a = 0; a < 10; a++) gw.on(h.id, 'GET', `/v1/events?after=${a}`, () => ({ events: (feed as { seq: number }[]).filter((e) => e.seq > a) }));
  return {
    hosts, vms, gw, keys, events, monitor, hostId: h.id,
    setFeed: (f: object[]) => (feed = f), setInfo: (i: Record<string, unknown>) => (info = { ...info, ...i }), setVms: (v: object[]) => (vmList = v),
  };
}

describe('host monitor', () => {
  it('relays an encrypted core dump as coredump.encryptedExists with file and location, once', async () => {
    const s = setup();
    s.setFeed([{ seq: 1, time: T(1), type: 'coredump.exists', message: 'encrypted core dump exists', file: 'x.vmdump', location: '/d/coredumps' }]);
    await s.monitor.poll(s.hostId);
    await s.monitor.poll(s.hostId);
    const dumps = s.events.posted.filter((e) => e.type === 'coredump.encryptedExists');
    expect(dumps).toHaveLength(1);
    expect(dumps[0]).toMatchObject({ severity: 'warning', data: { file: 'x.vmdump', location: '/d/coredumps' } });
  });

  it('sees an agent restart in its event feed (seq starts over) and asks key management to unlock the host', async () => {
    const s = setup();
    s.setFeed([{ seq: 1, time: T(1), type: 'host.paired', message: 'p' }, { seq: 2, time: T(2), type: 'vm.poweredOn', message: 'on', vmUuid: 'u' }]);
    await s.monitor.poll(s.hostId);
    await s.monitor.settled(s.hostId);
    expect(s.hosts.eventCursor(s.hostId)).toEqual({ seq: 2, time: T(2) });
    const before = s.keys.unlocks.length;
    s.setFeed([{ seq: 1, time: T(5), type: 'coredump.exists', message: 'dump', file: 'f', location: 'l' }]);
    const read = await readHostEvents(s.gw, s.hostId, s.hosts.eventCursor(s.hostId));
    expect(read.restarted).toBe(true);
    expect(read.events.map((e) => e.seq)).toEqual([1]);
    await s.monitor.poll(s.hostId);
    await s.monitor.settled(s.hostId);
    expect(s.keys.unlocks.length).toBeGreaterThan(before);
  });

  it('locked VMs: one unlock request in flight per host, however many polls', async () => {
    const s = setup();
    await s.monitor.poll(s.hostId);
    await s.monitor.settled(s.hostId);
    let release: () => void = () => {};
    let calls = 0;
    s.keys.unlockHost = async () => {
      calls++;
      await new Promise<void>((r) => (release = r));
      return { unlocked: ['u'], stillLocked: [] };
    };
    s.setInfo({ lockedVms: ['u'] });
    await Promise.all([s.monitor.poll(s.hostId), s.monitor.poll(s.hostId)]);
    await s.monitor.poll(s.hostId);
    expect(calls).toBe(1);
    release();
    await s.monitor.settled(s.hostId);
  });

  it('a host that stops answering is notResponding, and connected when it answers again', async () => {
    const s = setup();
    await s.monitor.poll(s.hostId);
    s.gw.on(s.hostId, 'GET', '/v1/host', () => {
      throw Object.assign(new Error('ECONNREFUSED'), { code: 'MANAGER_HOST_UNREACHABLE' });
    });
    await s.monitor.poll(s.hostId);
    expect(s.hosts.require(s.hostId).connectionState).toBe('notResponding');
    s.gw.on(s.hostId, 'GET', '/v1/host', () => ({ name: 'esx1', thumbprint: 'a'.repeat(64), cryptoMode: 'safe', lockedVms: [] }));
    await s.monitor.poll(s.hostId);
    expect(s.hosts.require(s.hostId).connectionState).toBe('connected');
    expect(s.events.posted.map((e) => e.type)).toEqual(expect.arrayContaining(['host.notResponding', 'host.connected']));
  });

  it('imports a VM the host has and records its observed state', async () => {
    const s = setup();
    s.setVms([{ uuid: 'u1', name: 'db1', vmx: '/ds/local/db1/db1.vmx', encrypted: true, storagePolicy: 'VM Encryption Policy', powerState: 'poweredOff', crypto: { state: 'locked', keyId: 'k', providerId: 'kp', reason: 'key k missing' } }]);
    await s.monitor.poll(s.hostId);
    const vm = s.vms.require('u1');
    expect(vm).toMatchObject({ policyId: 'vm-encryption', encrypted: true, locked: true, lockReason: 'key k missing' });
  });

  it('keeps the host\'s migration capability from GET /v1/host: unknown before the first poll, kept across a failed poll, updated when the agent changes', async () => {
    const s = setup();
    expect(s.hosts.require(s.hostId).migration).toBeUndefined();
    s.setInfo({ migration: { encryption: true, channels: ['tunnel', 'qemu-psk', 'plain'] } });
    await s.monitor.poll(s.hostId);
    expect(s.hosts.require(s.hostId).migration).toEqual({ encryption: true, channels: ['tunnel', 'qemu-psk', 'plain'] });
    expect(s.hosts.list()[0]?.migration).toEqual({ encryption: true, channels: ['tunnel', 'qemu-psk', 'plain'] });
    // an unreachable host keeps what it said last
    const ok = { name: 'esx1', thumbprint: 'a'.repeat(64), cryptoMode: 'safe', lockedVms: [], migration: { encryption: false, channels: ['plain', 7, 'x'.repeat(33)] } };
    s.gw.on(s.hostId, 'GET', '/v1/host', () => {
      throw Object.assign(new Error('ECONNREFUSED'), { code: 'MANAGER_HOST_UNREACHABLE' });
    });
    await s.monitor.poll(s.hostId);
    expect(s.hosts.require(s.hostId).migration?.encryption).toBe(true);
    // restarted with --no-migrate-encryption: bounded parsing drops what is not a short string
    s.gw.on(s.hostId, 'GET', '/v1/host', () => ok);
    await s.monitor.poll(s.hostId);
    expect(s.hosts.require(s.hostId).migration).toEqual({ encryption: false, channels: ['plain'] });
    // an agent that says nothing cannot encrypt (as the manager's migration policy reads it)
    s.gw.on(s.hostId, 'GET', '/v1/host', () => ({ ...ok, migration: undefined }));
    await s.monitor.poll(s.hostId);
    expect(s.hosts.require(s.hostId).migration).toEqual({ encryption: false, channels: [] });
  });
});
