import { copyFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { cloneDisk, decryptDisk, encryptDisk } from '../../disk/index.js';
import { HostError } from '../errors.js';
import { convertChain, type ChainLayer } from '../qemu/disk-images.js';
import type { TestFaults } from '../test-faults.js';
import { NVRAM_BYTES, readNvram, writeNvram } from '../vm-files/nvram.js';
import type { DiskLayer, VmConfig, VmDisk } from '../vm-files/vm-config.js';
import { generateDek, wrapDekFor } from '../vm-files/vm-crypto.js';
import { VmLog } from '../vm-files/vm-log.js';
import { encodeVmx, VMX_FORMAT, writeVmx, type KeySafe, type VmxDocument } from '../vm-files/vmx.js';
import { makePrivateDir, writePrivateFile } from '../../fs/private-files.js';
import { layerDek, layerPath, withKeyIds, type OpenVm } from './vm-open.js';

/**
 * Writes a copy of a VM's current state (every disk flattened to one file) into a NEW
 * directory: clones, exports and restores. Crash-safe the same way as the recrypts: the
 * directory carries a `.vmcrypt-partial` marker until the .vmx — written last, atomically —
 * commits it. A directory holding the marker and no .vmx is a leftover of a crash and is
 * replaced by a rerun; any other existing directory is refused. The source is only read.
 */
export const CopyMode = {
  KEEP: 'keep',
  ENCRYPT: 'encrypt',
  DECRYPT: 'decrypt',
  SHALLOW: 'shallow',
  DEEP: 'deep',
} as const;
export type CopyMode = (typeof CopyMode)[keyof typeof CopyMode];

export const PARTIAL_MARKER = '.vmcrypt-partial';

export interface CopyTarget {
  readonly dir: string;
  readonly name: string;
  readonly uuid: string;
  readonly mode: CopyMode;
  /** Target KEK (encrypted target): id, provider and a temporary copy of its bytes. */
  readonly key?: { readonly providerId: string; readonly keyId: string; readonly kek: Buffer };
  readonly storagePolicy: string;
  /** Clear-part links to carry (none for clones). */
  readonly logLine: string;
}

/** The layers of one source disk to read (the current chain, or the frozen part of it). */
export interface SourceDisk {
  readonly disk: VmDisk;
  readonly chain: readonly DiskLayer[];
}

export async function prepareTargetDir(dir: string): Promise<void> {
  const st = await stat(dir).catch(() => undefined);
  if (st !== undefined) {
    const names = await readdir(dir).catch(() => [] as string[]);
    if (!names.includes(PARTIAL_MARKER) || names.some((n) => n.endsWith('.vmx'))) throw new HostError('HOST_CONFLICT', `${dir} already exists`);
    await rm(dir, { recursive: true, force: true });
  }
  await makePrivateDir(dir, { exclusive: true });
  await writePrivateFile(join(dir, PARTIAL_MARKER), 'incomplete copy: removed when the .vmx is committed\n');
}

export async function copyVm(vm: OpenVm, sources: readonly SourceDisk[], t: CopyTarget, faults?: TestFaults): Promise<string> {
  const encrypted = t.key !== undefined;
  if (encrypted && (vm.config.serialPorts > 0 || vm.config.parallelPorts > 0)) {
    throw new HostError('HOST_UNSUPPORTED_ENCRYPTED', 'serial and parallel ports are not supported on encrypted VMs: remove them from the source first');
  }
  await prepareTargetDir(t.dir); // before the try: an existing directory is never removed
  const vmDek = encrypted ? generateDek() : undefined;
  try {
    const disks: VmDisk[] = [];
    for (const [i, s] of sources.entries()) {
      disks.push(await copyDisk(vm, s, t));
      faults?.reached('clone-after-disk', i + 1);
    }
    const config: VmConfig = {
      memoryMiB: vm.config.memoryMiB, disks, snapshots: [],
      nvram: `${t.name}.nvram`, log: `${t.name}.log`,
      serialPorts: vm.config.serialPorts, parallelPorts: vm.config.parallelPorts,
      ...(vm.config.kernel === undefined ? {} : { kernel: vm.config.kernel }),
      ...(vm.config.initrd === undefined ? {} : { initrd: vm.config.initrd }),
      ...(vm.config.append === undefined ? {} : { append: vm.config.append }),
    };
    const nvram = await readNvram(join(vm.dir, vm.config.nvram), vm.uuid, vm.vmDek).catch((err: unknown) => {
      if (vm.vmDek !== undefined) throw err;
      return Buffer.alloc(NVRAM_BYTES);
    });
    try {
      await writeNvram(join(t.dir, config.nvram), t.uuid, nvram, vmDek);
    } finally {
      nvram.fill(0);
    }
    const log = await VmLog.open(join(t.dir, config.log), t.uuid, vmDek);
    await log.append(t.logLine).finally(() => log.close());
    const keySafe: KeySafe | undefined = t.key === undefined || vmDek === undefined ? undefined : { providerId: t.key.providerId, keyId: t.key.keyId, wrappedDek: wrapDekFor(t.key.kek, vmDek, t.key.keyId) };
    const clear: Omit<VmxDocument, 'encrypted' | 'config'> = {
      format: VMX_FORMAT, name: t.name, uuid: t.uuid, createdAt: new Date().toISOString(), storagePolicy: t.storagePolicy,
      ...(keySafe === undefined ? {} : { keySafe }),
    };
    const vmxPath = join(t.dir, `${t.name}.vmx`);
    await writeVmx(vmxPath, encodeVmx(withKeyIds(clear, config), config, vmDek));
    await rm(join(t.dir, PARTIAL_MARKER), { force: true });
    return vmxPath;
  } catch (err) {
    await rm(t.dir, { recursive: true, force: true });
    throw err;
  } finally {
    vmDek?.fill(0);
  }
}

/** One disk: the cheapest correct path for its source chain and the target mode. */
async function copyDisk(vm: OpenVm, s: SourceDisk, t: CopyTarget): Promise<VmDisk> {
  const only = s.chain.length === 1 ? s.chain[0] : undefined;
  const srcEncrypted = s.chain.some((l) => l.wrappedDek !== undefined);
  const base = `${t.name}-${s.disk.id}`;
  const deks: Buffer[] = [];
  const asChain = (l: DiskLayer): ChainLayer => {
    const c: ChainLayer = { path: layerPath(vm, l), format: l.format };
    if (l.wrappedDek === undefined) return c;
    const dek = layerDek(vm, l);
    deks.push(dek);
    return { ...c, dek };
  };
  const disk = (layer: DiskLayer): VmDisk => ({ id: s.disk.id, sizeBytes: s.disk.sizeBytes, layers: [layer] });
  try {
    // plain target, or a plain disk an encrypted VM keeps (per-disk policy) unless encrypting
    if (t.key === undefined || (!srcEncrypted && t.mode !== CopyMode.ENCRYPT)) {
      const file = `${base}.raw`;
      const dst = join(t.dir, file);
      if (only?.format === 'raw') await copyFile(layerPath(vm, only), dst);
      else if (only?.format === 'luks') await decryptDisk({ src: layerPath(vm, only), dst, dek: asChain(only).dek ?? Buffer.alloc(0) });
      else await convertChain(s.chain.map(asChain), dst, undefined);
      return disk({ file, format: 'raw' });
    }
    const key = t.key;
    const file = `${base}.luks`;
    const dst = join(t.dir, file);
    // keep: the same DEK under the same KEK, byte copy
    if (t.mode === CopyMode.KEEP && only?.format === 'luks' && only.wrappedDek !== undefined) {
      await copyFile(layerPath(vm, only), dst);
      return disk({ file, format: 'luks', wrappedDek: only.wrappedDek, ...(only.keyId === undefined ? {} : { keyId: only.keyId }) });
    }
    const newDek = generateDek();
    deks.push(newDek);
    let dek = newDek;
    if (only?.format === 'luks') {
      const old = asChain(only).dek ?? Buffer.alloc(0);
      // shallow: same DEK, new KEK; deep (and the rest): new DEK and master key
      if (t.mode === CopyMode.SHALLOW || t.mode === CopyMode.KEEP) {
        await copyFile(layerPath(vm, only), dst);
        dek = old;
      } else await cloneDisk({ src: layerPath(vm, only), dst, oldDek: old, newDek });
    } else if (only?.format === 'raw') await encryptDisk({ src: layerPath(vm, only), dst, dek: newDek });
    else await convertChain(s.chain.map(asChain), dst, newDek);
    return disk({ file, format: 'luks', wrappedDek: wrapDekFor(key.kek, dek, key.keyId) });
  } finally {
    for (const k of deks) k.fill(0);
  }
}
