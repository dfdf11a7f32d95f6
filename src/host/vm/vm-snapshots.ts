import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { HostError } from '../errors.js';
import { commitTopLayer, createOverlay, rebaseUnsafe, type ChainLayer } from '../qemu/disk-images.js';
import { LIMITS, type DiskLayer, type VmDisk, type VmSnapshot } from '../vm-files/vm-config.js';
import { generateDek, wrapDekFor } from '../vm-files/vm-crypto.js';
import { layerDek, layerPath, saveVm, type OpenVm } from './vm-open.js';
import { ancestors, childrenOf, currentSnapshot, layerPool, rebuild, snapshotById } from './snapshot-tree.js';

/**
 * Disk-only snapshots as qcow2 overlays, one per disk per snapshot, each encrypted
 * (`encrypt.format=luks`) under its own layer DEK for encrypted VMs. A snapshot with
 * layerCount k froze layers [0, k) of every disk; writes go to the top layer.
 * Snapshots form a tree (snapshot-tree.ts). Create also works on a running VM (the overlay
 * is attached through QMP, see VmRuntime.attachOverlay); revert and delete need it powered
 * off. Every change commits with one .vmx rename; files no longer named go only after it.
 */
function newId(): string {
  return randomBytes(6).toString('hex');
}

/**
 * Attaches a just-made overlay to a running VM (QMP); gets the layer DEK (or undefined for a
 * plain disk) before it is zeroed.
 */
export type LiveAttach = (disk: number, path: string, dek: Buffer | undefined) => Promise<void>;

/** Wraps a new layer DEK under the KEK of the layer below (the VM's, or the disk's own). */
function wrapLike(vm: OpenVm, below: DiskLayer, dek: Buffer): DiskLayer['wrappedDek'] & string {
  const vmKeyId = vm.doc.keySafe?.keyId;
  if (vm.kek === undefined || vmKeyId === undefined) throw new HostError('HOST_BAD_REQUEST', 'the VM is not encrypted');
  const keyId = below.keyId ?? vmKeyId;
  if (keyId === vmKeyId) return wrapDekFor(vm.kek, dek, keyId);
  if (vm.cache === undefined || !vm.cache.has(keyId)) throw new HostError('HOST_KEY_MISSING', `key ${keyId} is not in this host's key cache; push it first`);
  return vm.cache.with(keyId, (kek) => wrapDekFor(kek, dek, keyId));
}

/** A new active layer on `top`: encrypted under its own DEK when `top` is encrypted. */
export async function addOverlay(vm: OpenVm, disk: VmDisk, top: DiskLayer, tag: string, live?: { index: number; attach: LiveAttach }): Promise<DiskLayer> {
  const file = `${vm.doc.name}-${disk.id}-${tag}.qcow2`;
  const path = join(vm.dir, file);
  // an instant clone's lower layers are in its parent's directory: name them by full path
  const backing = top.dir === undefined ? top.file : layerPath(vm, top);
  if (top.wrappedDek === undefined) {
    await createOverlay(path, backing, top.format, disk.sizeBytes, undefined);
    await live?.attach(live.index, path, undefined);
    return { file, format: 'qcow2' };
  }
  const dek = generateDek();
  try {
    const wrappedDek = wrapLike(vm, top, dek);
    await createOverlay(path, backing, top.format, disk.sizeBytes, dek);
    await live?.attach(live.index, path, dek);
    return { file, format: 'qcow2', wrappedDek, ...(top.keyId === undefined ? {} : { keyId: top.keyId }) };
  } finally {
    dek.fill(0);
  }
}

function topOf(disk: VmDisk): DiskLayer {
  const top = disk.layers[disk.layers.length - 1];
  if (top === undefined) throw new HostError('HOST_VMX_INVALID', `${disk.id} has no layers`);
  return top;
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
  if (vm.config.disks.some((d) => d.layers.length + (d.otherLayers?.length ?? 0) >= LIMITS.maxLayersPerDisk)) throw new HostError('HOST_CONFLICT', 'too many snapshot layers; delete a snapshot first');
  const tag = newId();
  const created: string[] = [];
  const parent = currentSnapshot(vm.config)?.id;
  try {
    const disks: VmDisk[] = [];
    for (const [index, disk] of vm.config.disks.entries()) {
      const layer = await addOverlay(vm, disk, topOf(disk), tag, attach === undefined ? undefined : { index, attach });
      created.push(join(vm.dir, layer.file));
      disks.push({ ...disk, layers: [...disk.layers, layer] });
    }
    const snap: VmSnapshot = {
      id: tag, name, createdAt: new Date().toISOString(), layerCount,
      ...(parent === undefined ? {} : { parent }),
      files: vm.config.disks.map((d) => topOf(d).file),
    };
    await saveVm(vm, { ...vm.config, disks, snapshots: [...vm.config.snapshots, snap] });
    return snap;
  } catch (err) {
    // a running VM may already write into an attached overlay: keep the files then
    if (attach === undefined) for (const f of created) await rm(f, { force: true });
    throw err;
  }
}

/**
 * Back to the snapshot's state: the current (unsaved) state is discarded, a fresh active
 * layer starts on the snapshot's chain. Every snapshot and its layers stay: taking a new
 * snapshot from here starts a new branch of the tree.
 */
export async function revertSnapshot(vm: OpenVm, id: string): Promise<void> {
  snapshotById(vm.config, id);
  const tag = newId();
  const created: string[] = [];
  const doomed: string[] = [];
  let config;
  try {
    const pools = vm.config.disks.map(layerPool);
    const active: DiskLayer[] = [];
    const chain = ancestors(vm.config, id);
    for (const [d, disk] of vm.config.disks.entries()) {
      const old = topOf(disk);
      if (old.dir === undefined) doomed.push(join(vm.dir, old.file));
      pools[d]?.delete(old.file);
      const snapTop = pools[d]?.get(chain[chain.length - 1]?.files[d] ?? '');
      if (snapTop === undefined) throw new HostError('HOST_VMX_INVALID', `${disk.id}: the layer of snapshot ${id} is missing`);
      const layer = await addOverlay(vm, disk, snapTop, tag);
      created.push(join(vm.dir, layer.file));
      active.push(layer);
    }
    config = rebuild(vm.config, vm.config.snapshots, pools, id, active);
    await saveVm(vm, config);
  } catch (err) {
    for (const f of created) await rm(f, { force: true });
    throw err;
  }
  for (const f of doomed) await rm(f, { force: true });
}

/**
 * Deletes a snapshot keeping every other state: the one layer that sits on its frozen layer
 * (a child snapshot's, or the active layer) is committed into it (qemu-img commit, keys
 * through FIFOs) and takes its place; the layers above are re-pointed (rebase -u). A
 * snapshot with several branches below it is refused (HOST_RULE, the rule named): one
 * commit would change all of them, and merging into each is not done.
 * A snapshot with nothing below it (an abandoned branch tip) just loses its layer.
 */
export async function deleteSnapshot(vm: OpenVm, id: string): Promise<void> {
  const snap = snapshotById(vm.config, id);
  const cur = currentSnapshot(vm.config)?.id;
  const kids = childrenOf(vm.config, id);
  const below = kids.length + (cur === id ? 1 : 0);
  if (below > 1) {
    throw new HostError(
      'HOST_RULE',
      `deleting snapshot ${snap.name} is refused: a snapshot can be deleted only when at most one branch continues below it, and ${below} do` +
        ' (its layer would have to be merged into each of them); delete all but one of those branches first',
    );
  }
  const kid = kids[0];
  const pools = vm.config.disks.map(layerPool);
  const active = vm.config.disks.map(topOf);
  const doomed: string[] = [];
  const snapshots = vm.config.snapshots
    .filter((s) => s.id !== id)
    .map((s) => (s.parent === id ? withParent(s, snap.parent) : s));
  if (below === 0) {
    for (const [d] of vm.config.disks.entries()) {
      const f = snap.files[d] ?? '';
      pools[d]?.delete(f);
      doomed.push(join(vm.dir, f));
    }
    await saveVm(vm, rebuild(vm.config, snapshots, pools, cur, active));
    for (const f of doomed) await rm(f, { force: true });
    return;
  }
  const chainIds = ancestors(vm.config, id);
  const next = snapshots.map((s) => ({ ...s, files: [...s.files] }));
  for (const [d, disk] of vm.config.disks.entries()) {
    const pool = pools[d] ?? new Map<string, DiskLayer>();
    const frozen = pool.get(snap.files[d] ?? '');
    const upper = kid === undefined ? active[d] : pool.get(kid.files[d] ?? '');
    if (frozen === undefined || upper === undefined) throw new HostError('HOST_VMX_INVALID', `${disk.id}: snapshot layers are missing`);
    if (frozen.dir !== undefined || upper.dir !== undefined) throw new HostError('HOST_CONFLICT', 'this snapshot holds layers an instant clone shares: it cannot be deleted');
    const chain = [...chainIds.map((s) => pool.get(s.files[d] ?? '')), upper];
    // the layers sitting on `upper`: its child snapshots' layers, or the active layer
    const aboveIds = kid === undefined ? [] : childrenOf(vm.config, kid.id).map((s) => s.files[d] ?? '');
    const above = [...aboveIds.map((f) => pool.get(f)), ...(kid !== undefined && cur === kid.id ? [active[d]] : [])];
    const deks: Buffer[] = [];
    const asChain = (l: DiskLayer | undefined): ChainLayer => {
      if (l === undefined) throw new HostError('HOST_VMX_INVALID', `${disk.id}: snapshot layers are missing`);
      const c: ChainLayer = { path: layerPath(vm, l), format: l.format };
      if (l.wrappedDek === undefined) return c;
      const dek = layerDek(vm, l);
      deks.push(dek);
      return { ...c, dek };
    };
    try {
      await commitTopLayer(chain.map(asChain));
      for (const a of above) await rebaseUnsafe(asChain(a), frozen.file, frozen.format);
    } finally {
      for (const k of deks) k.fill(0);
    }
    pool.delete(upper.file);
    doomed.push(join(vm.dir, upper.file));
    // the merged layer now holds the upper state and takes its role
    if (kid === undefined) active[d] = frozen;
    else for (const s of next) if (s.id === kid.id) s.files[d] = frozen.file;
  }
  await saveVm(vm, rebuild(vm.config, next, pools, cur === id ? snap.parent : cur, active));
  for (const f of doomed) await rm(f, { force: true });
}

function withParent(s: VmSnapshot, parent: string | undefined): VmSnapshot {
  const { parent: _p, ...rest } = s;
  return parent === undefined ? rest : { ...rest, parent };
}
