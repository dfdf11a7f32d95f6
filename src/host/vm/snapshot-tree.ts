import { HostError } from '../errors.js';
import type { DiskLayer, VmConfig, VmDisk, VmSnapshot } from '../vm-files/vm-config.js';

/**
 * The snapshot tree, pure. Every snapshot froze one layer per disk; a snapshot's chain is
 * its ancestors' frozen layers then its own. The active layer (top of `disk.layers`) is
 * never frozen: it sits on the frozen layer of the "current" snapshot (vSphere's "You are
 * here"). Reverting to an older snapshot and taking a new one starts a second branch; the
 * layers of the other branches are kept in `disk.otherLayers`.
 */
export function snapshotById(config: VmConfig, id: string): VmSnapshot {
  const s = config.snapshots.find((x) => x.id === id);
  if (s === undefined) throw new HostError('HOST_NOT_FOUND', `no snapshot ${id}`);
  return s;
}

/** The snapshot the current state was taken after, if any. */
export function currentSnapshot(config: VmConfig): VmSnapshot | undefined {
  const disk = config.disks[0];
  if (disk === undefined) return config.snapshots[config.snapshots.length - 1];
  const below = disk.layers[disk.layers.length - 2];
  if (below === undefined) return undefined;
  return config.snapshots.find((s) => s.files[0] === below.file);
}

/** Root first, `id` last. Bounded by the snapshot count (a cycle in a hand-edited .vmx fails). */
export function ancestors(config: VmConfig, id: string): VmSnapshot[] {
  const out: VmSnapshot[] = [];
  let cur: string | undefined = id;
  while (cur !== undefined) {
    if (out.length > config.snapshots.length) throw new HostError('HOST_VMX_INVALID', 'snapshot parents form a cycle');
    const s = snapshotById(config, cur);
    out.unshift(s);
    cur = s.parent;
  }
  return out;
}

export function childrenOf(config: VmConfig, id: string | undefined): VmSnapshot[] {
  return config.snapshots.filter((s) => s.parent === id);
}

/** Leaves of the tree, counting the current state as a child of the current snapshot. */
export function branchCount(config: VmConfig): number {
  if (config.snapshots.length === 0) return 1;
  const cur = currentSnapshot(config)?.id;
  let leaves = 0;
  for (const s of config.snapshots) if (childrenOf(config, s.id).length === 0 && s.id !== cur) leaves++;
  return leaves + 1;
}

/** Every layer of a disk by file name: the current chain and the other branches. */
export function layerPool(disk: VmDisk): Map<string, DiskLayer> {
  return new Map([...disk.layers, ...(disk.otherLayers ?? [])].map((l) => [l.file, l]));
}

/**
 * Rebuilds every disk after a tree change: the chain of `current` (undefined = no
 * snapshot below the active layer) plus the active layer of each disk; frozen layers of other
 * branches go to otherLayers; depths are recomputed.
 */
export function rebuild(
  config: VmConfig,
  snapshots: readonly VmSnapshot[],
  pools: ReadonlyArray<Map<string, DiskLayer>>,
  current: string | undefined,
  active: readonly DiskLayer[],
): VmConfig {
  const next: VmConfig = { ...config, snapshots };
  const chain = current === undefined ? [] : ancestors(next, current);
  const disks = config.disks.map((disk, d): VmDisk => {
    const pool = pools[d] ?? new Map<string, DiskLayer>();
    const top = active[d];
    if (top === undefined) throw new HostError('HOST_VMX_INVALID', `${disk.id}: no active layer`);
    const layers = chain.map((s) => pool.get(s.files[d] ?? '') ?? missing(disk, s));
    const onChain = new Set([...layers.map((l) => l.file), top.file]);
    const frozen = new Set(snapshots.map((s) => s.files[d] ?? ''));
    const otherLayers = [...pool.values()].filter((l) => !onChain.has(l.file) && frozen.has(l.file));
    const { otherLayers: _o, ...rest } = disk;
    return { ...rest, layers: [...layers, top], ...(otherLayers.length === 0 ? {} : { otherLayers }) };
  });
  const withDepth = snapshots.map((s) => ({ ...s, layerCount: ancestors(next, s.id).length }));
  return { ...config, disks, snapshots: withDepth };
}

function missing(disk: VmDisk, s: VmSnapshot): never {
  throw new HostError('HOST_VMX_INVALID', `${disk.id}: the layer of snapshot ${s.id} is missing`);
}

/** What GET …/snapshots shows: the tree as a flat list with parents, and each node's layers. */
export interface SnapshotNode {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  readonly parent: string | null;
  readonly children: readonly string[];
  readonly current: boolean;
  readonly disks: ReadonlyArray<{ readonly disk: string; readonly file: string; readonly keyId: string | null }>;
}

export function snapshotTree(config: VmConfig, vmKeyId: string | undefined): { snapshots: SnapshotNode[]; current: string | null; branches: number } {
  const cur = currentSnapshot(config)?.id ?? null;
  const snapshots = config.snapshots.map((s): SnapshotNode => ({
    id: s.id, name: s.name, createdAt: s.createdAt, parent: s.parent ?? null,
    children: childrenOf(config, s.id).map((c) => c.id),
    current: s.id === cur,
    disks: config.disks.map((disk, d) => {
      const l = layerPool(disk).get(s.files[d] ?? '');
      return { disk: disk.id, file: s.files[d] ?? '', keyId: l?.wrappedDek === undefined ? null : (l.keyId ?? vmKeyId ?? null) };
    }),
  }));
  return { snapshots, current: cur, branches: branchCount(config) };
}
