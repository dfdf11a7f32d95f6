import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { Registry } from 'prom-client';
import { complianceOf } from '../../../src/manager/inventory/compliance.js';
import { HostMonitor } from '../../../src/manager/inventory/hosts/host-monitor.js';
import { VmObserver } from '../../../src/manager/inventory/hosts/vm-observer.js';
import { DatastoreStore } from '../../../src/manager/inventory/store/datastore-store.js';
import { HostStore } from '../../../src/manager/inventory/store/host-store.js';
import { PolicyStore } from '../../../src/manager/inventory/store/policy-store.js';
import { VmStore, type VmObservation } from '../../../src/manager/inventory/store/vm-store.js';
import { FakeEvents, FakeHosts, FakeKeys, inventoryDb } from '../inventory/fakes.js';

/**
 * The host monitor asks a host for its VMs, then folds the answer in. A task that makes or
 * changes a VM in between records what the host replied to it; the older listing must not undo
 * that (the restore test read `notCompliant`: "the host no longer lists this VM").
 */
const UUID = '7d1f0f43-5b8e-4c55-9a49-2c1a6c0d9e01';
const VMX = '/ds/local/bk-enc/bk-enc.vmx';
const ENCRYPTED: VmObservation = { encrypted: true, keys: [{ part: 'vm', key: { providerId: 'kp-1', keyId: 'k2' } }], powerState: 'poweredOff', locked: false, vmxPath: VMX };
const listed = (encrypted: boolean) => ({
  uuid: UUID, name: 'bk-enc', vmx: VMX, encrypted, powerState: 'poweredOff',
  ...(encrypted ? { crypto: { state: 'unlocked', keyId: 'k2', providerId: 'kp-1' } } : {}),
});

function setup() {
  const db = inventoryDb();
  const hosts = new HostStore(db);
  const datastores = new DatastoreStore(db);
  const vms = new VmStore(db);
  const policies = new PolicyStore(db);
  const h = hosts.insert({ name: 'esx1', url: 'https://127.0.0.1:1', thumbprint: 'a'.repeat(64), cryptoMode: 'safe' });
  const ds = datastores.attach(h.id, 'esx1', '/ds/local', 'local', 'esx1-local');
  const gw = new FakeHosts();
  const events = new FakeEvents();
  const log = pino({ level: 'silent' });
  const observer = new VmObserver({ vms, datastores, policies, hosts, events, log });
  const monitor = new HostMonitor({ hosts, gateway: gw, observer, keys: () => new FakeKeys(), events, log, metrics: new Registry() }, { failuresBeforeNotResponding: 1, unlockRetryMs: 0, maxUnlockRetryMs: 0 });
  gw.on(h.id, 'GET', '/v1/host', () => ({ name: 'esx1', thumbprint: 'a'.repeat(64), cryptoMode: 'safe', lockedVms: [] }));
  for (let a = 0; a < 10; a++) gw.on(h.id, 'GET', `/v1/events?after=${a}`, () => ({ events: [] }));
  /** The host answers `vms`; then `meanwhile` runs (a task finishing) before the monitor folds the answer in. */
  const listing = (vms: object[], meanwhile: () => void = () => undefined) => gw.on(h.id, 'GET', '/v1/vms', () => {
    const reply = { vms };
    meanwhile();
    return reply;
  });
  const compliance = () => {
    const vm = vms.require(UUID);
    return complianceOf(vm, policies.require(vm.policyId));
  };
  return { vms, monitor, listing, compliance, hostId: h.id, dsId: ds.id };
}

/** What the restore task does once the host made the VM: the provisional row takes the host's uuid and its reply. */
function restoreFinishes(s: ReturnType<typeof setup>, provisional: string): void {
  s.vms.rename(provisional, UUID);
  s.vms.recordObserved(UUID, ENCRYPTED);
}

describe('a host listing older than the VM observation a task just recorded', () => {
  it('does not flag a VM the task made meanwhile as no longer listed: compliant right after the task', async () => {
    const s = setup();
    s.vms.insert({ id: 'vm-prov-1', name: 'bk-enc', hostId: s.hostId, datastoreId: s.dsId, policyId: 'vm-encryption', provisioned: false });
    s.listing([], () => restoreFinishes(s, 'vm-prov-1'));
    await s.monitor.poll(s.hostId);
    expect(s.vms.require(UUID).observedError).toBeUndefined();
    expect(s.compliance()).toEqual({ status: 'compliant' });
  });

  it('does not overwrite the newer observation with what the older listing said', async () => {
    const s = setup();
    s.vms.insert({ id: UUID, name: 'bk-enc', hostId: s.hostId, datastoreId: s.dsId, policyId: 'vm-encryption', provisioned: true });
    s.listing([listed(false)], () => s.vms.recordObserved(UUID, ENCRYPTED));
    await s.monitor.poll(s.hostId);
    expect(s.vms.require(UUID)).toMatchObject({ encrypted: true, keys: ENCRYPTED.keys });
    expect(s.compliance()).toEqual({ status: 'compliant' });
  });

  it('does not import again a VM deleted while the listing was on its way (no ghost); a later listing still imports one the host has', async () => {
    const s = setup();
    s.vms.insert({ id: UUID, name: 'bk-enc', hostId: s.hostId, datastoreId: s.dsId, policyId: 'vm-encryption', provisioned: true });
    s.vms.recordObserved(UUID, ENCRYPTED);
    s.listing([listed(true)], () => s.vms.delete(UUID));
    await s.monitor.poll(s.hostId);
    expect(s.vms.vm(UUID)).toBeUndefined();
    s.listing([listed(true)]);
    await s.monitor.poll(s.hostId);
    expect(s.vms.vm(UUID)).toBeDefined();
  });

  it('a listing asked for after the observation still applies: a VM gone from the host is flagged, a change is recorded', async () => {
    const s = setup();
    s.vms.insert({ id: 'vm-prov-2', name: 'bk-enc', hostId: s.hostId, datastoreId: s.dsId, policyId: 'vm-encryption', provisioned: false });
    restoreFinishes(s, 'vm-prov-2');
    s.listing([listed(false)]);
    await s.monitor.poll(s.hostId);
    expect(s.vms.require(UUID).encrypted).toBe(false);
    s.listing([]);
    await s.monitor.poll(s.hostId);
    expect(s.vms.require(UUID).observedError).toBe('the host no longer lists this VM');
    expect(s.compliance().status).toBe('notCompliant');
  });
});
