import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { cloneDisk, decryptDisk, encryptDisk } from '../../disk/index.js';
import { HostError } from '../errors.js';
import type { KeyCache } from '../keys/key-cache.js';
import { NVRAM_BYTES, readNvram, writeNvram } from '../vm-files/nvram.js';
import type { VmConfig, VmDisk } from '../vm-files/vm-config.js';
import { generateDek, wrapDekFor } from '../vm-files/vm-crypto.js';
import { VmLog } from '../vm-files/vm-log.js';
import { layerDek, type OpenVm } from './vm-open.js';
import { encodeVmx, writeVmx, type KeySafe, type VmxDocument } from '../vm-files/vmx.js';

/**
 * Changing how a VM is encrypted (all with the VM powered off, except shallow rekey):
 * - shallow rekey: see shallow-rekey.ts (resumable, layer by layer).
 * - deep rekey: new VM DEK and new disk DEKs; every LUKS disk rewritten (src/disk rekeyDisk).
 * - encrypt / decrypt: plain ↔ encrypted (src/disk encryptDisk/decryptDisk write a new file
 *   beside the old one, fsync, rename), then the .vmx is committed, then old files go.
 * Deep rekey, encrypt and decrypt need a VM without snapshots (one layer per disk).
 * In place (`inPlace: true`, no second copy): in-place.ts, which ends with the same commitRewrite.
 */
export interface NewKey {
  readonly providerId: string;
  readonly keyId: string;
}

export function requireNoSnapshots(vm: OpenVm, what: string): void {
  if (vm.config.snapshots.length > 0 || vm.config.disks.some((d) => d.layers.length > 1)) {
    throw new HostError('HOST_CONFLICT', `${what} needs a VM without snapshots: delete them first`);
  }
}

/** Serial and parallel ports are not supported on encrypted VMs (seeds). */
export function requireNoPorts(vm: OpenVm): void {
  if (vm.config.serialPorts > 0 || vm.config.parallelPorts > 0) {
    throw new HostError('HOST_UNSUPPORTED_ENCRYPTED', 'remove the serial/parallel ports first: they are not supported on encrypted VMs');
  }
}

/** The clear part to commit: without the sealed/plain config, and without an in-place mark (a commit ends it). */
export function clearOf(doc: VmxDocument): Omit<VmxDocument, 'encrypted' | 'config'> {
  const { encrypted: _e, config: _c, inPlace: _i, ...clear } = doc;
  return clear;
}

export async function deepRekey(vm: OpenVm, cache: KeyCache, to: NewKey): Promise<void> {
  if (vm.doc.keySafe === undefined || vm.vmDek === undefined) throw new HostError('HOST_BAD_REQUEST', 'the VM is not encrypted');
  requireNoSnapshots(vm, 'a deep rekey');
  const vmDek = vm.vmDek;
  const newVmDek = generateDek();
  try {
    await cache.withAsync(to.keyId, (newKek) =>
      commitRewrite(vm, async (made) => {
        const disks: VmDisk[] = [];
        for (const d of vm.config.disks) {
          const layer = d.layers[0];
          if (layer === undefined) continue;
          // a plain disk of an encrypted VM (per-disk policy) stays as it is
          if (layer.wrappedDek === undefined) {
            disks.push(d);
            continue;
          }
          // a copy under a new name: the old disk (and its DEK in the old .vmx) stays valid
          // until the new .vmx is committed
          const file = rewrittenName(layer.file);
          const oldDek = layerDek(vm, layer);
          const newDek = generateDek();
          try {
            await cloneDisk({ src: join(vm.dir, layer.file), dst: join(vm.dir, file), oldDek, newDek });
            made.push(join(vm.dir, file));
            disks.push({ ...d, layers: [{ file, format: layer.format, wrappedDek: wrapDekFor(newKek, newDek, to.keyId) }] });
          } finally {
            oldDek.fill(0);
            newDek.fill(0);
          }
        }
        const keySafe: KeySafe = { providerId: to.providerId, keyId: to.keyId, wrappedDek: wrapDekFor(newKek, newVmDek, to.keyId) };
        return { clear: { ...clearOf(vm.doc), keySafe }, disks, oldDek: vmDek, newDek: newVmDek, why: 'deep rekey: new VM DEK' };
      }),
    );
  } finally {
    newVmDek.fill(0);
  }
}

export async function encryptVm(vm: OpenVm, cache: KeyCache, to: NewKey): Promise<void> {
  if (vm.doc.keySafe !== undefined) throw new HostError('HOST_CONFLICT', 'the VM is already encrypted');
  requireNoSnapshots(vm, 'encrypting a VM');
  requireNoPorts(vm);
  const vmDek = generateDek();
  try {
    await cache.withAsync(to.keyId, (kek) =>
      commitRewrite(vm, async (made) => {
        const disks: VmDisk[] = [];
        for (const d of vm.config.disks) {
          const layer = d.layers[0];
          if (layer === undefined) continue;
          const file = `${stemOf(layer.file)}.luks`;
          const dek = generateDek();
          try {
            await encryptDisk({ src: join(vm.dir, layer.file), dst: join(vm.dir, file), dek });
            made.push(join(vm.dir, file));
            disks.push({ ...d, layers: [{ file, format: 'luks', wrappedDek: wrapDekFor(kek, dek, to.keyId) }] });
          } finally {
            dek.fill(0);
          }
        }
        const keySafe: KeySafe = { providerId: to.providerId, keyId: to.keyId, wrappedDek: wrapDekFor(kek, vmDek, to.keyId) };
        return { clear: { ...clearOf(vm.doc), storagePolicy: 'VM Encryption Policy', keySafe }, disks, oldDek: undefined, newDek: vmDek, why: `encrypted with key ${to.keyId}` };
      }),
    );
  } finally {
    vmDek.fill(0);
  }
}

export async function decryptVm(vm: OpenVm): Promise<void> {
  if (vm.doc.keySafe === undefined || vm.vmDek === undefined) throw new HostError('HOST_CONFLICT', 'the VM is not encrypted');
  requireNoSnapshots(vm, 'decrypting a VM');
  const vmDek = vm.vmDek;
  await commitRewrite(vm, async (made) => {
    const disks: VmDisk[] = [];
    for (const d of vm.config.disks) {
      const layer = d.layers[0];
      if (layer === undefined) continue;
      if (layer.wrappedDek === undefined) {
        disks.push(d);
        continue;
      }
      const file = `${stemOf(layer.file)}.raw`;
      const dek = layerDek(vm, layer);
      try {
        await decryptDisk({ src: join(vm.dir, layer.file), dst: join(vm.dir, file), dek });
        made.push(join(vm.dir, file));
      } finally {
        dek.fill(0);
      }
      disks.push({ ...d, layers: [{ file, format: 'raw' }] });
    }
    const { keySafe: _k, ...clear } = clearOf(vm.doc);
    return { clear: { ...clear, storagePolicy: 'Datastore Default' }, disks, oldDek: vmDek, newDek: undefined, why: 'decrypted' };
  });
}

/** What a rewrite commits: the new clear part, disks, and the VM DEK before/after (undefined = plain). */
export interface Rewrite {
  readonly clear: Omit<VmxDocument, 'encrypted' | 'config'>;
  readonly disks: VmDisk[];
  readonly oldDek: Buffer | undefined;
  readonly newDek: Buffer | undefined;
  readonly why: string;
}

/**
 * The one commit point of deep rekey, encrypt and decrypt: every new file (disks from
 * `build`, NVRAM and log under the new VM DEK) is written under a NEW name beside the old
 * ones, then the .vmx naming them is replaced atomically, then the old files go. A failure
 * or crash before the .vmx rename leaves the VM exactly as it was (new files are removed or
 * are unreferenced leftovers); after it, the VM is complete under its new keys.
 */
export async function commitRewrite(vm: OpenVm, build: (made: string[]) => Promise<Rewrite>): Promise<void> {
  const made: string[] = [];
  let committed = false;
  let committedConfig: VmConfig = vm.config;
  try {
    const r = await build(made);
    const nvramFile = rewrittenName(vm.config.nvram);
    const logFile = rewrittenName(vm.config.log);
    const nvram = await readNvram(join(vm.dir, vm.config.nvram), vm.uuid, r.oldDek).catch((err: unknown) => {
      if (r.oldDek !== undefined) throw err;
      return Buffer.alloc(NVRAM_BYTES); // a plain VM's missing NVRAM starts blank
    });
    try {
      made.push(join(vm.dir, nvramFile));
      await writeNvram(join(vm.dir, nvramFile), vm.uuid, nvram, r.newDek);
    } finally {
      nvram.fill(0);
    }
    made.push(join(vm.dir, logFile));
    const log = await VmLog.open(join(vm.dir, logFile), vm.uuid, r.newDek);
    await log.append(`new log: ${r.why}`).finally(() => log.close());
    const config: VmConfig = { ...vm.config, disks: r.disks, nvram: nvramFile, log: logFile };
    await writeVmx(vm.vmxPath, encodeVmx(r.clear, config, r.newDek));
    committed = true;
    committedConfig = config;
  } finally {
    if (!committed) for (const f of made) await rm(f, { force: true });
  }
  const filesOf = (c: VmConfig): string[] => [...c.disks.flatMap((d) => d.layers.map((l) => l.file)), c.nvram, c.log];
  const kept = new Set(filesOf(committedConfig));
  for (const f of filesOf(vm.config)) if (!kept.has(f)) await rm(join(vm.dir, f), { force: true });
}

export const REWRITTEN_RE = /^(.+?)(?:-k[0-9a-f]{8})?(\.[A-Za-z0-9]+)?$/;

/** A file name without its extension and rewrite tag: `vm-disk0-k0a1b2c3d.luks` → `vm-disk0`. */
export function stemOf(file: string): string {
  return REWRITTEN_RE.exec(file)?.[1] ?? file;
}

/** A fresh name beside `file` (STEM-kXXXXXXXX.EXT) for its rewritten copy. */
export function rewrittenName(file: string): string {
  return `${stemOf(file)}-k${randomBytes(4).toString('hex')}${REWRITTEN_RE.exec(file)?.[2] ?? ''}`;
}
