import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { decryptDisk, encryptDisk, rekeyDisk } from '../disk/index.js';
import { HostError } from './errors.js';
import type { KeyCache } from './key-cache.js';
import { NVRAM_BYTES, readNvram, writeNvram } from './nvram.js';
import type { DiskLayer, VmConfig, VmDisk } from './vm-config.js';
import { generateDek, unwrapDekFor, wrapDekFor } from './vm-crypto.js';
import { VmLog } from './vm-log.js';
import { layerDek, type OpenVm } from './vm-open.js';
import { encodeVmx, writeVmx, type KeySafe, type VmxDocument } from './vmx.js';

/**
 * Changing how a VM is encrypted (all with the VM powered off, except shallow rekey):
 * - shallow rekey: new KEK; the VM DEK and every layer DEK are rewrapped. O(1) in disk size.
 * - deep rekey: new VM DEK and new disk DEKs; every LUKS disk rewritten (src/disk rekeyDisk).
 * - encrypt / decrypt: plain ↔ encrypted (src/disk encryptDisk/decryptDisk write a new file
 *   beside the old one, fsync, rename), then the .vmx is committed, then old files go.
 * Deep rekey, encrypt and decrypt need a VM without snapshots (one layer per disk).
 */
export interface NewKey {
  readonly providerId: string;
  readonly keyId: string;
}

function requireNoSnapshots(vm: OpenVm, what: string): void {
  if (vm.config.snapshots.length > 0 || vm.config.disks.some((d) => d.layers.length > 1)) {
    throw new HostError('HOST_CONFLICT', `${what} needs a VM without snapshots: delete them first`);
  }
}

function clearOf(doc: VmxDocument): Omit<VmxDocument, 'encrypted' | 'config'> {
  const { encrypted: _e, config: _c, ...clear } = doc;
  return clear;
}

export async function shallowRekey(vm: OpenVm, cache: KeyCache, to: NewKey): Promise<void> {
  if (vm.doc.keySafe === undefined || vm.kek === undefined || vm.vmDek === undefined) throw new HostError('HOST_BAD_REQUEST', 'the VM is not encrypted');
  const oldKek = vm.kek;
  const oldKeyId = vm.doc.keySafe.keyId;
  const vmDek = vm.vmDek;
  await cache.withAsync(to.keyId, async (newKek) => {
    const disks: VmDisk[] = vm.config.disks.map((d) => ({
      ...d,
      layers: d.layers.map((l): DiskLayer => {
        const dek = unwrapDekFor(oldKek, l.wrappedDek ?? '', oldKeyId, `${vm.vmxPath}: wrapped DEK of ${l.file}`);
        try {
          return { ...l, wrappedDek: wrapDekFor(newKek, dek, to.keyId) };
        } finally {
          dek.fill(0);
        }
      }),
    }));
    const keySafe: KeySafe = { providerId: to.providerId, keyId: to.keyId, wrappedDek: wrapDekFor(newKek, vmDek, to.keyId) };
    await writeVmx(vm.vmxPath, encodeVmx({ ...clearOf(vm.doc), keySafe }, { ...vm.config, disks }, vmDek));
  });
}

export async function deepRekey(vm: OpenVm, cache: KeyCache, to: NewKey): Promise<void> {
  if (vm.doc.keySafe === undefined || vm.vmDek === undefined) throw new HostError('HOST_BAD_REQUEST', 'the VM is not encrypted');
  requireNoSnapshots(vm, 'a deep rekey');
  const newVmDek = generateDek();
  try {
    await cache.withAsync(to.keyId, async (newKek) => {
      const disks: VmDisk[] = [];
      for (const d of vm.config.disks) {
        const layer = d.layers[0];
        if (layer === undefined) continue;
        const oldDek = layerDek(vm, layer);
        const newDek = generateDek();
        try {
          await rekeyDisk({ path: join(vm.dir, layer.file), oldDek, newDek, mode: 'deep' });
          disks.push({ ...d, layers: [{ ...layer, wrappedDek: wrapDekFor(newKek, newDek, to.keyId) }] });
        } finally {
          oldDek.fill(0);
          newDek.fill(0);
        }
      }
      const nvram = await readNvram(join(vm.dir, vm.config.nvram), vm.uuid, vm.vmDek);
      try {
        await writeNvram(join(vm.dir, vm.config.nvram), vm.uuid, nvram, newVmDek);
      } finally {
        nvram.fill(0);
      }
      const keySafe: KeySafe = { providerId: to.providerId, keyId: to.keyId, wrappedDek: wrapDekFor(newKek, newVmDek, to.keyId) };
      await writeVmx(vm.vmxPath, encodeVmx({ ...clearOf(vm.doc), keySafe }, { ...vm.config, disks }, newVmDek));
      await rotateLog(vm, newVmDek, 'deep rekey: new VM DEK');
    });
  } finally {
    newVmDek.fill(0);
  }
}

export async function encryptVm(vm: OpenVm, cache: KeyCache, to: NewKey): Promise<void> {
  if (vm.doc.keySafe !== undefined) throw new HostError('HOST_CONFLICT', 'the VM is already encrypted');
  requireNoSnapshots(vm, 'encrypting a VM');
  if (vm.config.serialPorts > 0 || vm.config.parallelPorts > 0) {
    throw new HostError('HOST_UNSUPPORTED_ENCRYPTED', 'remove the serial/parallel ports first: they are not supported on encrypted VMs');
  }
  const vmDek = generateDek();
  const made: string[] = [];
  try {
    await cache.withAsync(to.keyId, async (kek) => {
      const disks: VmDisk[] = [];
      for (const d of vm.config.disks) {
        const layer = d.layers[0];
        if (layer === undefined) continue;
        const file = layer.file.replace(/\.raw$/, '') + '.luks';
        const dek = generateDek();
        try {
          await encryptDisk({ src: join(vm.dir, layer.file), dst: join(vm.dir, file), dek });
          made.push(join(vm.dir, file));
          disks.push({ ...d, layers: [{ file, format: 'luks', wrappedDek: wrapDekFor(kek, dek, to.keyId) }] });
        } finally {
          dek.fill(0);
        }
      }
      const nvram = await readNvram(join(vm.dir, vm.config.nvram), vm.uuid, undefined).catch(() => Buffer.alloc(NVRAM_BYTES));
      const config: VmConfig = { ...vm.config, disks };
      const keySafe: KeySafe = { providerId: to.providerId, keyId: to.keyId, wrappedDek: wrapDekFor(kek, vmDek, to.keyId) };
      const text = encodeVmx({ ...clearOf(vm.doc), storagePolicy: 'VM Encryption Policy', keySafe }, config, vmDek);
      await writeNvram(join(vm.dir, `${vm.config.nvram}.new`), vm.uuid, nvram, vmDek);
      nvram.fill(0);
      await rename(join(vm.dir, `${vm.config.nvram}.new`), join(vm.dir, vm.config.nvram));
      await writeVmx(vm.vmxPath, text);
      await rotateLog(vm, vmDek, `encrypted with key ${to.keyId}`);
    });
  } catch (err) {
    for (const f of made) await rm(f, { force: true });
    throw err;
  } finally {
    vmDek.fill(0);
  }
  for (const d of vm.config.disks) for (const l of d.layers) await rm(join(vm.dir, l.file), { force: true });
}

export async function decryptVm(vm: OpenVm): Promise<void> {
  if (vm.doc.keySafe === undefined || vm.vmDek === undefined) throw new HostError('HOST_CONFLICT', 'the VM is not encrypted');
  requireNoSnapshots(vm, 'decrypting a VM');
  const made: string[] = [];
  try {
    const disks: VmDisk[] = [];
    for (const d of vm.config.disks) {
      const layer = d.layers[0];
      if (layer === undefined) continue;
      const file = layer.file.replace(/\.luks$/, '') + '.raw';
      const dek = layerDek(vm, layer);
      try {
        await decryptDisk({ src: join(vm.dir, layer.file), dst: join(vm.dir, file), dek });
        made.push(join(vm.dir, file));
      } finally {
        dek.fill(0);
      }
      disks.push({ ...d, layers: [{ file, format: 'raw' }] });
    }
    const nvram = await readNvram(join(vm.dir, vm.config.nvram), vm.uuid, vm.vmDek);
    await writeNvram(join(vm.dir, `${vm.config.nvram}.new`), vm.uuid, nvram, undefined);
    nvram.fill(0);
    await rename(join(vm.dir, `${vm.config.nvram}.new`), join(vm.dir, vm.config.nvram));
    const { keySafe: _k, ...clear } = clearOf(vm.doc);
    await writeVmx(vm.vmxPath, encodeVmx({ ...clear, storagePolicy: 'Datastore Default' }, { ...vm.config, disks }, undefined));
    await rotateLog(vm, undefined, 'decrypted');
  } catch (err) {
    for (const f of made) await rm(f, { force: true });
    throw err;
  }
  for (const d of vm.config.disks) for (const l of d.layers) await rm(join(vm.dir, l.file), { force: true });
}

/** The log changes key with the VM: the old one is removed (it was sealed under the old DEK). */
async function rotateLog(vm: OpenVm, dek: Buffer | undefined, why: string): Promise<void> {
  const path = join(vm.dir, vm.config.log);
  await rm(path, { force: true });
  const log = await VmLog.open(path, vm.uuid, dek);
  await log.append(`new log: ${why}`);
  await log.close();
}
