import { describe, expect, it } from 'vitest';
import { createAncestryResolver } from '../../../src/manager/inventory/ancestry.js';
import { TreeStore } from '../../../src/manager/inventory/store/tree-store.js';
import { HostStore } from '../../../src/manager/inventory/store/host-store.js';
import { DatastoreStore } from '../../../src/manager/inventory/store/datastore-store.js';
import { VmStore } from '../../../src/manager/inventory/store/vm-store.js';
import { PolicyStore } from '../../../src/manager/inventory/store/policy-store.js';
import { ROOT } from '../../../src/manager/contracts.js';
import { inventoryDb } from './fakes.js';

describe('inventory tree and ancestry', () => {
  const db = inventoryDb();
  const tree = new TreeStore(db);
  const hosts = new HostStore(db);
  const ds = new DatastoreStore(db);
  const vms = new VmStore(db);
  const anc = createAncestryResolver(db);
  const dc = tree.createFolder('dc');
  const team = tree.createFolder('team', dc.id);
  const cluster = tree.createCluster('prod', true);
  const h1 = hosts.insert({ name: 'esx1', url: 'https://127.0.0.1:1', thumbprint: 'a'.repeat(64), cryptoMode: 'incapable', clusterId: cluster.id });
  const h2 = hosts.insert({ name: 'esx2', url: 'https://127.0.0.1:2', thumbprint: 'b'.repeat(64), cryptoMode: 'incapable' });
  const shared1 = ds.attach(h1.id, 'esx1', '/srv/shared', 'shared', 'shared');
  const shared2 = ds.attach(h2.id, 'esx2', '/srv/shared', 'shared', 'shared');
  const local1 = ds.attach(h1.id, 'esx1', '/d1/local', 'local', 'local');
  const local2 = ds.attach(h2.id, 'esx2', '/d2/local', 'local', 'local');
  vms.insert({ id: 'vm-a', name: 'a', hostId: h1.id, datastoreId: shared1.id, folderId: team.id, policyId: 'datastore-default', provisioned: true });

  it('walks vm → folder → folder → root, and host → cluster → root', () => {
    expect(anc.ancestors({ kind: 'vm', id: 'vm-a' })).toEqual([{ kind: 'folder', id: team.id }, { kind: 'folder', id: dc.id }, ROOT]);
    expect(anc.ancestors({ kind: 'host', id: h1.id })).toEqual([{ kind: 'cluster', id: cluster.id }, ROOT]);
    expect(anc.ancestors({ kind: 'host', id: h2.id })).toEqual([ROOT]);
    expect(anc.ancestors(ROOT)).toEqual([]);
    expect(anc.ancestors({ kind: 'policy', id: 'vm-encryption' })).toEqual([ROOT]);
  });

  it('throws MANAGER_NOT_FOUND for an unknown entity', () => {
    expect(() => anc.ancestors({ kind: 'vm', id: 'nope' })).toThrow(expect.objectContaining({ code: 'MANAGER_NOT_FOUND' }) as Error);
    expect(() => anc.ancestors({ kind: 'folder', id: 'nope' })).toThrow(expect.objectContaining({ code: 'MANAGER_NOT_FOUND' }) as Error);
  });

  it('one directory mounted by two hosts is one shared datastore; two local dirs are two datastores', () => {
    expect(shared2.id).toBe(shared1.id);
    expect(shared2.hosts).toHaveLength(2);
    expect(local1.name).toBe('local');
    expect(local2.name).toBe('local (esx2)');
    expect(ds.mountName(shared1.id, h2.id)).toBe('shared');
  });

  it('refuses to delete what is in use', () => {
    expect(() => tree.deleteFolder(dc.id)).toThrow(expect.objectContaining({ code: 'MANAGER_CONFLICT' }) as Error);
    expect(() => tree.deleteCluster(cluster.id)).toThrow(expect.objectContaining({ code: 'MANAGER_CONFLICT' }) as Error);
    expect(() => hosts.remove(h1.id)).toThrow(expect.objectContaining({ code: 'MANAGER_CONFLICT' }) as Error);
  });

  it('built-in policies cannot be deleted; a custom one in use cannot either', () => {
    const p = new PolicyStore(db);
    expect(p.list().slice(0, 2).map((x) => x.name)).toEqual(['Datastore Default', 'VM Encryption Policy']);
    expect(() => p.delete('vm-encryption')).toThrow(expect.objectContaining({ code: 'MANAGER_CONFLICT' }) as Error);
    const gold = p.create({ name: 'Gold encryption', encryption: true, providerId: 'kp-2' });
    vms.setPolicy('vm-a', gold.id);
    expect(() => p.delete(gold.id)).toThrow(expect.objectContaining({ code: 'MANAGER_CONFLICT' }) as Error);
    vms.setPolicy('vm-a', 'datastore-default');
    p.delete(gold.id);
  });

  it('a created VM takes its host uuid; its keys follow', () => {
    vms.insert({ id: 'vm-prov', name: 'b', hostId: h1.id, datastoreId: shared1.id, policyId: 'vm-encryption', provisioned: false });
    vms.recordObserved('vm-prov', { encrypted: true, keys: [{ part: 'vm', key: { providerId: 'kp', keyId: 'k1' } }], powerState: 'poweredOff', locked: false });
    vms.rename('vm-prov', 'uuid-b');
    expect(vms.require('uuid-b').keys).toEqual([{ part: 'vm', key: { providerId: 'kp', keyId: 'k1' } }]);
    expect(vms.usingKey({ providerId: 'kp', keyId: 'k1' }).map((v) => v.id)).toEqual(['uuid-b']);
  });

  it('a locked VM keeps the disk keys the inventory knew (the host shows only the home key while locked)', () => {
    vms.recordObserved('uuid-b', { encrypted: true, keys: [{ part: 'vm', key: { providerId: 'kp', keyId: 'k1' } }, { part: 'disk0', key: { providerId: 'kp', keyId: 'k1' } }], powerState: 'poweredOff', locked: false });
    vms.recordObserved('uuid-b', { encrypted: true, keys: [{ part: 'vm', key: { providerId: 'kp', keyId: 'k1' } }], powerState: 'poweredOff', locked: true, lockReason: 'key k1 missing' });
    const v = vms.require('uuid-b');
    expect(v.keys.map((k) => k.part)).toEqual(['disk0', 'vm']);
    expect(v.locked).toBe(true);
  });
});
