import { describe, expect, it } from 'vitest';
import { ancestors, branchCount, currentSnapshot, rebuild, layerPool } from '../../../src/host/vm/snapshot-tree.js';
import { validateVmConfig, type VmConfig } from '../../../src/host/vm-files/vm-config.js';
import { parseVmx } from '../../../src/host/vm-files/vmx.js';

const layer = (file: string) => ({ file, format: 'qcow2' as const });
const base: VmConfig = {
  memoryMiB: 64, nvram: 'v.nvram', log: 'v.log', serialPorts: 0, parallelPorts: 0,
  disks: [{ id: 'disk0', sizeBytes: 1 << 20, layers: [{ file: 'b.raw', format: 'raw' }, layer('a.qcow2'), layer('top.qcow2')], otherLayers: [layer('x.qcow2')] }],
  snapshots: [
    { id: 'sa', name: 'A', createdAt: 't', layerCount: 1, files: ['b.raw'] },
    { id: 'sb', name: 'B', createdAt: 't', layerCount: 2, parent: 'sa', files: ['x.qcow2'] },
    { id: 'sc', name: 'C', createdAt: 't', layerCount: 2, parent: 'sa', files: ['a.qcow2'] },
  ],
};

describe('snapshot tree (pure)', () => {
  it('finds the current snapshot, ancestors and the branch count', () => {
    expect(currentSnapshot(base)?.id).toBe('sc');
    expect(ancestors(base, 'sc').map((s) => s.id)).toEqual(['sa', 'sc']);
    expect(branchCount(base)).toBe(2);
    expect(branchCount({ ...base, snapshots: [] })).toBe(1);
  });

  it('rebuilds the chain of another snapshot and keeps the other branch', () => {
    const pools = base.disks.map(layerPool);
    const next = rebuild(base, base.snapshots, pools, 'sb', [layer('new.qcow2')]);
    expect(next.disks[0]?.layers.map((l) => l.file)).toEqual(['b.raw', 'x.qcow2', 'new.qcow2']);
    expect(next.disks[0]?.otherLayers?.map((l) => l.file)).toEqual(['a.qcow2']);
  });

  it('refuses a parent cycle in a hand-edited configuration', () => {
    const cyc = { ...base, snapshots: [{ id: 'sa', name: 'A', createdAt: 't', layerCount: 1, parent: 'sb', files: ['b.raw'] }, { id: 'sb', name: 'B', createdAt: 't', layerCount: 2, parent: 'sa', files: ['x.qcow2'] }] };
    expect(() => ancestors(cyc, 'sa')).toThrow(/cycle/);
  });

  it('reads a pre-tree configuration as one branch (parents follow depth, files from the chain)', () => {
    const legacy = validateVmConfig({
      memoryMiB: 64, nvram: 'v.nvram', log: 'v.log',
      disks: [{ id: 'disk0', sizeBytes: 1 << 20, layers: [{ file: 'b.raw', format: 'raw' }, layer('l1.qcow2'), layer('l2.qcow2')] }],
      snapshots: [{ id: 's2', name: 'two', createdAt: 't', layerCount: 2 }, { id: 's1', name: 'one', createdAt: 't', layerCount: 1 }],
    }, false);
    expect(legacy.snapshots.find((s) => s.id === 's2')).toMatchObject({ parent: 's1', files: ['l1.qcow2'] });
    expect(legacy.snapshots.find((s) => s.id === 's1')?.parent).toBeUndefined();
    expect(currentSnapshot(legacy)?.id).toBe('s2');
  });

  it('a plain VM has no encrypted layers; an encrypted VM may keep a plain disk', () => {
    const disk = (l: Record<string, unknown>) => ({ memoryMiB: 64, nvram: 'n', log: 'l', snapshots: [], disks: [{ id: 'disk0', sizeBytes: 1 << 20, layers: [l] }] });
    expect(() => validateVmConfig(disk({ file: 'd.luks', format: 'luks', wrappedDek: 'w' }), false)).toThrow(/plain VM/);
    expect(validateVmConfig(disk({ file: 'd.raw', format: 'raw' }), true).disks[0]?.layers[0]?.format).toBe('raw');
  });

  it('parses the clear links and the rekey mark, bounded', () => {
    const u = '11111111-2222-4333-8444-555555555555';
    const doc = parseVmx(JSON.stringify({
      format: 'vmcrypt-vmx/1', name: 'v', uuid: u, instantClones: [u], encrypted: 'AA==',
      keySafe: { providerId: 'p', keyId: 'k1', wrappedDek: 'w', otherKeyIds: ['k2'], pendingRekey: { providerId: 'p', keyId: 'k2' } },
    }), 'v.vmx');
    expect(doc).toMatchObject({ instantClones: [u], keySafe: { otherKeyIds: ['k2'], pendingRekey: { keyId: 'k2' } } });
    expect(() => parseVmx(JSON.stringify({ format: 'vmcrypt-vmx/1', name: 'v', uuid: u, instantCloneOf: '../x', config: {} }), 'v.vmx')).toThrow(/instantCloneOf/);
  });
});
