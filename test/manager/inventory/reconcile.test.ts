import { describe, expect, it } from 'vitest';
import { Reconciler } from '../../../src/manager/inventory/reconcile.js';
import { DatastoreStore } from '../../../src/manager/inventory/store/datastore-store.js';
import { HostStore } from '../../../src/manager/inventory/store/host-store.js';
import { OperationStore } from '../../../src/manager/inventory/store/operation-store.js';
import { PolicyStore } from '../../../src/manager/inventory/store/policy-store.js';
import { VmStore } from '../../../src/manager/inventory/store/vm-store.js';
import { complianceOf } from '../../../src/manager/inventory/compliance.js';
import { FakeEvents, FakeHosts, FakeKeys, hostRefusal, inventoryDb } from './fakes.js';

const UUID = '11111111-2222-4333-8444-555555555555';

function setup() {
  const db = inventoryDb();
  const hosts = new HostStore(db);
  const datastores = new DatastoreStore(db);
  const vms = new VmStore(db);
  const ops = new OperationStore(db);
  const policies = new PolicyStore(db);
  const h = hosts.insert({ name: 'esx1', url: 'https://127.0.0.1:1', thumbprint: 'a'.repeat(64), cryptoMode: 'safe' });
  const ds = datastores.attach(h.id, 'esx1', '/ds/shared', 'shared', 'shared');
  const gw = new FakeHosts();
  const keys = new FakeKeys();
  const events = new FakeEvents();
  const rec = new Reconciler({ vms, ops, policies, datastores, hosts: gw, keys: () => keys, events });
  const intent = (policyId: string) =>
    vms.insertWithOperation({ id: 'vm-prov', name: 'web1', hostId: h.id, datastoreId: ds.id, policyId, provisioned: false }, (vmId) =>
      ops.insert({ vmId, kind: 'create', spec: { memoryMiB: 128, disks: [{ sizeBytes: 1 << 20 }] }, user: 'alice' }));
  const hostVm = (body: { encryption?: { providerId: string; keyId: string } } | undefined) => ({
    uuid: UUID, name: 'web1', vmx: '/ds/shared/web1/web1.vmx', encrypted: body?.encryption !== undefined, storagePolicy: 'x',
    powerState: 'poweredOff', disks: [{ id: 'disk0' }],
    crypto: body?.encryption === undefined ? { state: 'notEncrypted' } : { state: 'unlocked', ...body.encryption },
  });
  return { db, hosts, vms, ops, policies, gw, keys, events, rec, intent, hostVm, hostId: h.id };
}

describe('reconcile: create', () => {
  it('creates an encrypted VM: KEK created and recorded, pushed, host create with the key id, observed state recorded', async () => {
    const s = setup();
    s.gw.on(s.hostId, 'POST', '/v1/vms', (b) => s.hostVm(b as never));
    const op = s.intent('vm-encryption');
    const done = await s.rec.run(op.id);
    expect(done.state).toBe('done');
    expect(done.vmId).toBe(UUID);
    expect(s.keys.created).toEqual([{ providerId: 'kp-1', keyId: 'kek-1' }]);
    expect(s.keys.pushed).toEqual([{ vmId: 'vm-prov', keys: [{ providerId: 'kp-1', keyId: 'kek-1' }] }]);
    const vm = s.vms.require(UUID);
    expect(vm.encrypted).toBe(true);
    expect(vm.keys.map((k) => k.part)).toEqual(['disk0', 'vm']);
    expect(s.vms.vm('vm-prov')).toBeUndefined();
    expect(complianceOf(vm, s.policies.require('vm-encryption')).status).toBe('compliant');
    expect(s.events.posted.map((e) => e.type)).toEqual(['vm.created']);
  });

  it('a failed push leaves the operation failed with the KEK recorded; the rerun reuses that KEK', async () => {
    const s = setup();
    s.gw.on(s.hostId, 'POST', '/v1/vms', (b) => s.hostVm(b as never));
    const op = s.intent('vm-encryption');
    s.keys.failPush = true;
    await expect(s.rec.run(op.id)).rejects.toThrow('host unreachable');
    const failed = s.ops.get(op.id);
    expect(failed?.state).toBe('failed');
    expect(failed?.step).toBe('kek');
    expect(failed?.key?.keyId).toBe('kek-1');
    const vm = s.vms.require('vm-prov');
    expect(complianceOf(vm, s.policies.require('vm-encryption'), failed).status).toBe('notCompliant');
    s.keys.failPush = false;
    await s.rec.run(op.id);
    expect(s.keys.created).toHaveLength(1);
    expect(s.vms.require(UUID).keys[0]?.key.keyId).toBe('kek-1');
  });

  it('a crash after the host made the VM: the rerun adopts the VM the host has instead of making a second', async () => {
    const s = setup();
    s.gw.on(s.hostId, 'POST', '/v1/vms', () => {
      throw hostRefusal('HOST_CONFLICT', 409);
    });
    s.gw.on(s.hostId, 'GET', '/v1/vms', () => ({ vms: [s.hostVm({ encryption: { providerId: 'kp-1', keyId: 'kek-1' } })] }));
    const op = s.intent('vm-encryption');
    const done = await s.rec.run(op.id);
    expect(done.vmId).toBe(UUID);
    expect(s.vms.require(UUID).provisioned).toBe(true);
  });

  it('refuses to adopt a directory that holds another VM (not encrypted while the policy says encrypted)', async () => {
    const s = setup();
    s.gw.on(s.hostId, 'POST', '/v1/vms', () => {
      throw hostRefusal('HOST_CONFLICT', 409);
    });
    s.gw.on(s.hostId, 'GET', '/v1/vms', () => ({ vms: [s.hostVm(undefined)] }));
    const op = s.intent('vm-encryption');
    await expect(s.rec.run(op.id)).rejects.toMatchObject({ code: 'MANAGER_CONFLICT' });
    expect(s.ops.get(op.id)?.state).toBe('failed');
  });

  it('a plain VM needs no key: no KEK, no push', async () => {
    const s = setup();
    let sent: unknown;
    s.gw.on(s.hostId, 'POST', '/v1/vms', (b) => {
      sent = b;
      return s.hostVm(undefined);
    });
    await s.rec.run(s.intent('datastore-default').id);
    expect(s.keys.created).toHaveLength(0);
    expect(s.keys.pushed).toHaveLength(0);
    expect(sent).toMatchObject({ name: 'web1', datastore: 'shared', storagePolicy: 'Datastore Default' });
    expect(sent).not.toHaveProperty('encryption');
  });

  it('a KEK that cannot be created records nothing and the VM stays unprovisioned', async () => {
    const s = setup();
    s.keys.failCreate = true;
    const op = s.intent('vm-encryption');
    await expect(s.rec.run(op.id)).rejects.toThrow('KMS down');
    expect(s.ops.get(op.id)?.key).toBeUndefined();
    expect(s.gw.calls).toEqual([]);
    expect(s.vms.require('vm-prov').provisioned).toBe(false);
  });
});
