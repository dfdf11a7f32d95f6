import { HostError } from '../errors.js';
import type { KeyCache } from '../keys/key-cache.js';
import type { TestFaults } from '../test-faults.js';
import type { DiskLayer, VmConfig, VmDisk } from '../vm-files/vm-config.js';
import { wrapDekFor } from '../vm-files/vm-crypto.js';
import { encodeVmx, writeVmx, type KeySafe, type VmxDocument } from '../vm-files/vmx.js';
import { branchCount } from './snapshot-tree.js';
import { layerDek, withKeyIds, type OpenVm } from './vm-open.js';
import type { NewKey } from './vm-recrypt.js';

/**
 * Shallow rekey (Set-VMEncryptionKey): a new KEK; the DEKs stay, only their wrapping
 * changes, so no data is rewritten (O(1) in disk size) and the VM may run.
 * It is resumable: layer by layer, each rewrap is its own .vmx commit, marked
 * `keySafe.pendingRekey` and listing the new key in `keySafe.otherKeyIds`; the VM DEK moves
 * last and clears the mark. Stopped part way (failure, kill -9) the VM still opens (with both
 * keys) and shows mixed keys; a rerun skips the layers already under the new key.
 * Allowed with snapshots only when they form a single branch (vSphere's rule).
 */
export async function shallowRekey(vm: OpenVm, cache: KeyCache, to: NewKey, faults?: TestFaults): Promise<void> {
  if (vm.doc.keySafe === undefined || vm.kek === undefined || vm.vmDek === undefined) throw new HostError('HOST_BAD_REQUEST', 'the VM is not encrypted');
  const branches = branchCount(vm.config);
  if (branches > 1 || vm.config.disks.some((d) => (d.otherLayers?.length ?? 0) > 0)) {
    throw new HostError('HOST_RULE', `a shallow rekey needs the snapshots to form a single branch; this VM's snapshot tree has ${branches} branches: delete the other branches first`);
  }
  if (!cache.has(to.keyId)) throw new HostError('HOST_KEY_MISSING', `key ${to.keyId} is not in this host's key cache; push it first`);
  const vmKeyId = vm.doc.keySafe.keyId;
  const clear0 = clearOf(vm.doc);
  const marked = { ...clear0, keySafe: { ...vm.doc.keySafe, pendingRekey: { providerId: to.providerId, keyId: to.keyId } } };
  let config: VmConfig = vm.config;
  let moved = 0;
  // base layers first: the order a reader of the chain meets them
  const todo = vm.config.disks.flatMap((d, di) => d.layers.map((l, li) => ({ di, li, l }))).filter((x) => x.l.wrappedDek !== undefined && (x.l.keyId ?? vmKeyId) !== to.keyId);
  for (const { di, li, l } of todo) {
    const dek = layerDek(vm, l);
    let layer: DiskLayer;
    try {
      layer = { ...l, wrappedDek: cache.with(to.keyId, (kek) => wrapDekFor(kek, dek, to.keyId)), keyId: to.keyId };
    } finally {
      dek.fill(0);
    }
    config = replaceLayer(config, di, li, layer);
    await writeVmx(vm.vmxPath, encodeVmx(withKeyIds(marked, config), config, vm.vmDek));
    moved++;
    faults?.reached('rekey-after-layer', moved);
  }
  // last: the VM DEK; layer key ids equal to the VM's are implied
  const keySafe: KeySafe = { providerId: to.providerId, keyId: to.keyId, wrappedDek: cache.with(to.keyId, (kek) => wrapDekFor(kek, vm.vmDek ?? Buffer.alloc(0), to.keyId)) };
  const final: VmConfig = {
    ...config,
    disks: config.disks.map((d): VmDisk => ({ ...d, layers: d.layers.map((l) => dropImplied(l, to.keyId)) })),
  };
  await writeVmx(vm.vmxPath, encodeVmx(withKeyIds({ ...clear0, keySafe }, final), final, vm.vmDek));
}

function replaceLayer(config: VmConfig, di: number, li: number, layer: DiskLayer): VmConfig {
  return { ...config, disks: config.disks.map((d, i) => (i !== di ? d : { ...d, layers: d.layers.map((l, j) => (j === li ? layer : l)) })) };
}

function dropImplied(l: DiskLayer, vmKeyId: string): DiskLayer {
  if (l.keyId !== vmKeyId) return l;
  const { keyId: _k, ...rest } = l;
  return rest;
}

function clearOf(doc: VmxDocument): Omit<VmxDocument, 'encrypted' | 'config'> {
  const { encrypted: _e, config: _c, ...clear } = doc;
  return clear;
}
