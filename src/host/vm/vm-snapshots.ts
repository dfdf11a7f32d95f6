import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { HostError } from '../errors.js';
import { commitTopLayer, createOverlay, rebaseUnsafe, type ChainLayer } from '../qemu/disk-images.js';
import { LIMITS, type DiskLayer, type VmConfig, type VmDisk, type VmSnapshot } from '../vm-files/vm-config.js';
import { generateDek, wrapDekFor } from '../vm-files/vm-crypto.js';
import { layerDek, saveVm, type OpenVm } from './vm-open.js';

/**
 * Disk-only snapshots as qcow2 overlays, one per disk per snapshot, each encrypted
 * (`encrypt.format=luks`) under its own layer DEK for encrypted VMs. A snapshot with
 * layerCount k froze layers [0, k) of every disk; writes go to the top layer.
 * Create also works on a running VM (the overlay is attached through QMP, see
 * VmRuntime.attachOverlay); revert and delete need it powered off. The .vmx is committed
 * before old files go.
 */
function newId(): string {
  return randomBytes(6).toString('hex');
}

/**
 * Attaches a just-made overlay to a running VM (QMP); gets the layer DEK (or undefined for a
 * plain VM) before it is zeroed.
 */
export type LiveAttach = (disk: number, path: string, dek: Buffer | undefined) => Promise<void>;

async function addOverlay(vm: OpenVm, disk: VmDisk, tag: string, live?: { index: number; attach: LiveAttach }): Promise<DiskLayer> {
  const top = disk.layers[disk.layers.length - 1];
  if (top === undefined) throw new HostError('HOST_VMX_INVALID', `${disk.id} has no layers`);
  const file = `${vm.doc.name}-${disk.id}-${tag}.qcow2`;
  const path = join(vm.dir, file);
  if (vm.doc.keySafe === undefined || vm.kek === undefined) {
    await createOverlay(path, top.file, top.format, disk.sizeBytes, undefined);
    await live?.attach(live.index, path, undefined);
    return { file, format: 'qcow2' };
  }
  const dek = generateDek();
  try {
    await createOverlay(path, top.file, top.format, disk.sizeBytes, dek);
    await live?.attach(live.index, path, dek);
    return { file, format: 'qcow2', wrappedDek: wrapDekFor(vm.kek, dek, vm.doc.keySafe.keyId) };
  } finally {
    dek.fill(0);
  }
}

export async function createSnapshot(vm: OpenVm, name: string, memory: boolean, attach?: LiveAttach): Promise<VmSnapshot> {
  if (memory) {
    if (vm.doc.keySafe !== undefined) throw new HostError('HOST_UNSUPPORTED_ENCRYPTED', 'memory snapshots are not supported on encrypted VMs; take a disk-only snapshot');
    throw new HostError('HOST_BAD_REQUEST', 'memory snapshots are not supported by this host; take a disk-only snapshot');
  }
  if (typeof name !== 'string' || name.length === 0 || name.length > 128) throw new HostError('HOST_BAD_REQUEST', 'snapshot name must be 1–128 characters');
  if (vm.config.snapshots.length >= LIMITS.maxSnapshots) throw new HostError('HOST_CONFLICT', `at most ${LIMITS.maxSnapshots} snapshots`);
  const layerCount = vm.config.disks[0]?.layers.length ?? 1;
  if (layerCount >= LIMITS.maxLayers) throw new HostError('HOST_CONFLICT', 'disk chain too long; delete a snapshot first');
  const tag = newId();
  const created: string[] = [];
  try {
    const disks: VmDisk[] = [];
    for (const [index, disk] of vm.config.disks.entries()) {
      const layer = await addOverlay(vm, disk, tag, attach === undefined ? undefined : { index, attach });
      created.push(join(vm.dir, layer.file));
      disks.push({ ...disk, layers: [...disk.layers, layer] });
    }
    const snap: VmSnapshot = { id: tag, name, createdAt: new Date().toISOString(), layerCount };
    await saveVm(vm, { ...vm.config, disks, snapshots: [...vm.config.snapshots, snap] });
    return snap;
  } catch (err) {
    // a running VM may already write into an attached overlay: keep the files then
    if (attach === undefined) for (const f of created) await rm(f, { force: true });
    throw err;
  }
}

function findSnapshot(config: VmConfig, id: string): VmSnapshot {
  const s = config.snapshots.find((x) => x.id === id);
  if (s === undefined) throw new HostError('HOST_NOT_FOUND', `no snapshot ${id}`);
  return s;
}

/** Back to the snapshot's state: later layers and later snapshots go; a fresh top layer starts. */
export async function revertSnapshot(vm: OpenVm, id: string): Promise<void> {
  const snap = findSnapshot(vm.config, id);
  const k = snap.layerCount;
  const tag = newId();
  const created: string[] = [];
  const doomed: string[] = [];
  try {
    const disks: VmDisk[] = [];
    for (const disk of vm.config.disks) {
      const kept = { ...disk, layers: disk.layers.slice(0, k) };
      for (const l of disk.layers.slice(k)) doomed.push(join(vm.dir, l.file));
      const layer = await addOverlay(vm, kept, tag);
      created.push(join(vm.dir, layer.file));
      disks.push({ ...kept, layers: [...kept.layers, layer] });
    }
    const snapshots = vm.config.snapshots.filter((s) => s.layerCount <= k);
    await saveVm(vm, { ...vm.config, disks, snapshots });
  } catch (err) {
    for (const f of created) await rm(f, { force: true });
    throw err;
  }
  for (const f of doomed) await rm(f, { force: true });
}

/**
 * Deletes a snapshot keeping the current state: its delta layer k is committed into layer
 * k-1 (qemu-img commit, both keys given through pipes), the layer above is re-pointed, and
 * later snapshots shift down by one layer.
 */
export async function deleteSnapshot(vm: OpenVm, id: string): Promise<void> {
  const snap = findSnapshot(vm.config, id);
  const k = snap.layerCount;
  const doomed: string[] = [];
  const disks: VmDisk[] = [];
  for (const disk of vm.config.disks) {
    const chainLayers = disk.layers.slice(0, k + 1);
    const deks: Buffer[] = [];
    try {
      const chain: ChainLayer[] = chainLayers.map((l) => {
        const c: ChainLayer = { path: join(vm.dir, l.file), format: l.format };
        if (l.wrappedDek === undefined) return c;
        const dek = layerDek(vm, l);
        deks.push(dek);
        return { ...c, dek };
      });
      await commitTopLayer(chain);
      const above = disk.layers[k + 1];
      const below = disk.layers[k - 1];
      if (above !== undefined && below !== undefined) {
        const aboveChain: ChainLayer = { path: join(vm.dir, above.file), format: above.format };
        if (above.wrappedDek === undefined) await rebaseUnsafe(aboveChain, below.file, below.format);
        else {
          const dek = layerDek(vm, above);
          deks.push(dek);
          await rebaseUnsafe({ ...aboveChain, dek }, below.file, below.format);
        }
      }
    } finally {
      for (const d of deks) d.fill(0);
    }
    const gone = disk.layers[k];
    if (gone !== undefined) doomed.push(join(vm.dir, gone.file));
    disks.push({ ...disk, layers: disk.layers.filter((_, i) => i !== k) });
  }
  const snapshots = vm.config.snapshots
    .filter((s) => s.id !== id)
    .map((s) => (s.layerCount > k ? { ...s, layerCount: s.layerCount - 1 } : s));
  await saveVm(vm, { ...vm.config, disks, snapshots });
  for (const f of doomed) await rm(f, { force: true });
}
