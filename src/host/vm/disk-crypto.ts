import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { decryptDisk, encryptDisk } from '../../disk/index.js';
import { HostError } from '../errors.js';
import type { DiskLayer, VmConfig } from '../vm-files/vm-config.js';
import { generateDek, wrapDekFor } from '../vm-files/vm-crypto.js';
import { layerDek, saveVm, type OpenVm } from './vm-open.js';
import { rewrittenName, type NewKey } from './vm-recrypt.js';

/**
 * Per-disk encryption (Enable-/Disable-VMDiskEncryption): one disk changes, the VM home and
 * the other disks stay. A disk can be encrypted only when the VM home is (seeds: the VM
 * encryption policy comes first). The disk may have its own KEK (its own policy); its
 * layers then carry that key id. New file beside the old one, .vmx commit, old file goes.
 */
function diskAt(vm: OpenVm, index: number): { layer: DiskLayer } {
  const disk = vm.config.disks[index];
  if (disk === undefined) throw new HostError('HOST_NOT_FOUND', `VM ${vm.doc.name} has no disk ${index}`);
  if (vm.config.snapshots.length > 0 || disk.layers.length !== 1) throw new HostError('HOST_RULE', 'changing a disk\'s encryption needs a VM without snapshots: delete them first');
  const layer = disk.layers[0];
  if (layer === undefined) throw new HostError('HOST_VMX_INVALID', `disk ${index} has no layers`);
  return { layer };
}

export async function encryptVmDisk(vm: OpenVm, index: number, key: NewKey | undefined): Promise<void> {
  if (vm.doc.keySafe === undefined || vm.kek === undefined) {
    throw new HostError('HOST_RULE', 'a disk can be encrypted only when the VM home is encrypted: encrypt the VM first');
  }
  const { layer } = diskAt(vm, index);
  if (layer.wrappedDek !== undefined) throw new HostError('HOST_CONFLICT', `disk ${index} is already encrypted`);
  const vmKeyId = vm.doc.keySafe.keyId;
  const keyId = key?.keyId ?? vmKeyId;
  const file = rewrittenName(layer.file).replace(/\.[A-Za-z0-9]+$/, '') + '.luks';
  const dek = generateDek();
  try {
    let wrappedDek: string;
    if (keyId === vmKeyId) wrappedDek = wrapDekFor(vm.kek, dek, keyId);
    else {
      if (vm.cache === undefined || !vm.cache.has(keyId)) throw new HostError('HOST_KEY_MISSING', `key ${keyId} is not in this host's key cache; push it first`);
      wrappedDek = vm.cache.with(keyId, (kek) => wrapDekFor(kek, dek, keyId));
    }
    await encryptDisk({ src: join(vm.dir, layer.file), dst: join(vm.dir, file), dek });
    const next: DiskLayer = { file, format: 'luks', wrappedDek, ...(keyId === vmKeyId ? {} : { keyId }) };
    await commitDisk(vm, index, next);
  } catch (err) {
    await rm(join(vm.dir, file), { force: true });
    throw err;
  } finally {
    dek.fill(0);
  }
  await rm(join(vm.dir, layer.file), { force: true });
}

export async function decryptVmDisk(vm: OpenVm, index: number): Promise<void> {
  const { layer } = diskAt(vm, index);
  if (layer.wrappedDek === undefined) throw new HostError('HOST_CONFLICT', `disk ${index} is not encrypted`);
  const file = rewrittenName(layer.file).replace(/\.[A-Za-z0-9]+$/, '') + '.raw';
  const dek = layerDek(vm, layer);
  try {
    await decryptDisk({ src: join(vm.dir, layer.file), dst: join(vm.dir, file), dek });
    await commitDisk(vm, index, { file, format: 'raw' });
  } catch (err) {
    await rm(join(vm.dir, file), { force: true });
    throw err;
  } finally {
    dek.fill(0);
  }
  await rm(join(vm.dir, layer.file), { force: true });
}

/** The one commit point: the .vmx naming the new file (the caller removes the old one after it). */
async function commitDisk(vm: OpenVm, index: number, next: DiskLayer): Promise<void> {
  const config: VmConfig = { ...vm.config, disks: vm.config.disks.map((d, i) => (i === index ? { ...d, layers: [next] } : d)) };
  await saveVm(vm, config);
}
