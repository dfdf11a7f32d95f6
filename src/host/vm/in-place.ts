import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { diskInfo, type DiskProgress } from '../../disk/index.js';
import { HostError } from '../errors.js';
import type { KeyCache } from '../keys/key-cache.js';
import type { TestFaults } from '../test-faults.js';
import { unfinishedInPlace, type InPlaceDiskEntry, type InPlaceOp, type InPlacePending } from '../vm-files/in-place-record.js';
import type { DiskLayer, VmConfig, VmDisk } from '../vm-files/vm-config.js';
import { generateDek, unwrapDekFor, wrapDekFor } from '../vm-files/vm-crypto.js';
import { encodeVmx, writeVmx, type KeySafe } from '../vm-files/vmx.js';
import { convertDiskInPlace, engineStarted, type DiskOp } from './in-place-disk.js';
import { layerDek, withKeyIds, type OpenVm } from './vm-open.js';
import { clearOf, commitRewrite, requireNoPorts, requireNoSnapshots, rewrittenName, stemOf, type NewKey } from './vm-recrypt.js';

/**
 * Encrypt / decrypt / deep rekey of a powered-off VM (or one disk of it) IN PLACE: every disk
 * file is converted where it is by the disk engine (src/disk encrypt|decrypt|rekeyDiskInPlace),
 * so no second copy is needed. Crash safety across the VM, in three steps:
 * 1. before any disk changes, the .vmx gets `inPlace` (in-place-record.ts): the operation, the
 *    target KEK id and the new DEKs wrapped under it — so after a kill -9 the key a half-done
 *    disk needs can still be unwrapped (the old DEKs stay in the unchanged configuration);
 * 2. each disk is converted (resumable inside the engine), then renamed to its final name;
 * 3. the final .vmx (new keys, new layers, new NVRAM and log) is committed atomically and the
 *    mark is gone. A rerun of the same operation at any point finishes it (in-place-disk.ts
 *    reads from each file whether it is done).
 */
export interface InPlaceRequest {
  readonly op: InPlaceOp;
  /** encrypt, rekey: the new KEK; diskEncrypt: the disk's own KEK (default: the VM's). */
  readonly to?: NewKey | undefined;
  /** diskEncrypt, diskDecrypt: the disk index. */
  readonly disk?: number | undefined;
}

export interface InPlaceProgress extends DiskProgress {
  readonly op: InPlaceOp;
  /** Index of the disk being converted in the VM, and its rank among the disks converted. */
  readonly disk: number;
  readonly rank: number;
  readonly disks: number;
}

export interface InPlaceHooks {
  readonly faults?: TestFaults | undefined;
  readonly onProgress?: ((p: InPlaceProgress) => void) | undefined;
}

const DISK_OP: Record<InPlaceOp, DiskOp> = { encrypt: 'encrypt', decrypt: 'decrypt', rekey: 'rekey', diskEncrypt: 'encrypt', diskDecrypt: 'decrypt' };

/** Runs (or finishes) an in-place operation; the caller has checked power state, key cache and space. */
export async function runInPlace(vm: OpenVm, cache: KeyCache, req: InPlaceRequest, hooks: InPlaceHooks = {}): Promise<void> {
  const fresh = vm.doc.inPlace === undefined;
  const pending = fresh ? await begin(vm, cache, req) : resumable(vm, req);
  const done = { disks: 0, steps: 0 };
  try {
    await convertAll(vm, cache, pending, hooks, done);
  } catch (err) {
    // A first run refused before its first disk changed (disk busy, no room, key missing …): the
    // mark goes again, so the VM is not held closed for an operation that never began. Never on
    // a rerun (an earlier run may have converted disks under keys only the mark holds).
    const first = pending.disks[0];
    if (fresh && done.disks === 0 && done.steps === 0 && (first === undefined || !(await engineStarted(vm.dir, first)))) {
      await writeVmx(vm.vmxPath, encodeVmx(clearOf(vm.doc), vm.config, vm.vmDek));
    }
    throw err;
  }
  await commit(vm, cache, pending);
}

function resumable(vm: OpenVm, req: InPlaceRequest): InPlacePending {
  const p = vm.doc.inPlace as InPlacePending;
  const what = `an in-place ${req.op}`;
  if (p.op !== req.op) throw unfinishedInPlace(p, vm.uuid, vm.doc.name, what);
  if (req.to !== undefined && p.key !== undefined && p.key.keyId !== req.to.keyId) throw unfinishedInPlace(p, vm.uuid, vm.doc.name, `${what} with key ${req.to.keyId}`);
  if (req.disk !== undefined && p.disks[0]?.disk !== req.disk) throw unfinishedInPlace(p, vm.uuid, vm.doc.name, `${what} of disk ${req.disk}`);
  return p;
}

const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);

/** STEM.EXT beside `file`, or a tagged name when that one is taken. */
async function finalName(vm: OpenVm, file: string, ext: string): Promise<string> {
  const plain = `${stemOf(file)}.${ext}`;
  if (plain === file || !(await exists(join(vm.dir, plain)))) return plain;
  return rewrittenName(file).replace(/\.[A-Za-z0-9]+$/, '') + `.${ext}`;
}

function singleLayer(vm: OpenVm, index: number): DiskLayer {
  const disk = vm.config.disks[index];
  if (disk === undefined) throw new HostError('HOST_NOT_FOUND', `VM ${vm.doc.name} has no disk ${index}`);
  if (vm.config.snapshots.length > 0 || disk.layers.length !== 1) throw new HostError('HOST_RULE', "changing a disk's encryption needs a VM without snapshots: delete them first");
  const layer = disk.layers[0];
  if (layer === undefined || layer.dir !== undefined) throw new HostError('HOST_VMX_INVALID', `disk ${index} has no layer of its own`);
  return layer;
}

/** Checks the operation, plans every disk and records the plan in the .vmx (step 1). */
async function begin(vm: OpenVm, cache: KeyCache, req: InPlaceRequest): Promise<InPlacePending> {
  const encrypted = vm.doc.keySafe !== undefined && vm.vmDek !== undefined;
  const picks: Array<{ index: number; layer: DiskLayer }> = [];
  let key = req.to;
  switch (req.op) {
    case 'encrypt':
      if (vm.doc.keySafe !== undefined) throw new HostError('HOST_CONFLICT', 'the VM is already encrypted');
      requireNoSnapshots(vm, 'encrypting a VM');
      requireNoPorts(vm);
      vm.config.disks.forEach((d, index) => d.layers[0] !== undefined && picks.push({ index, layer: d.layers[0] }));
      break;
    case 'decrypt':
    case 'rekey':
      if (!encrypted) throw new HostError(req.op === 'rekey' ? 'HOST_BAD_REQUEST' : 'HOST_CONFLICT', 'the VM is not encrypted');
      requireNoSnapshots(vm, req.op === 'rekey' ? 'a deep rekey' : 'decrypting a VM');
      vm.config.disks.forEach((d, index) => d.layers[0]?.wrappedDek !== undefined && picks.push({ index, layer: d.layers[0] }));
      break;
    case 'diskEncrypt':
    case 'diskDecrypt': {
      if (!encrypted) throw new HostError('HOST_RULE', 'a disk can be encrypted only when the VM home is encrypted: encrypt the VM first');
      const index = req.disk ?? -1;
      const layer = singleLayer(vm, index);
      const isEnc = layer.wrappedDek !== undefined;
      if (isEnc === (req.op === 'diskEncrypt')) throw new HostError('HOST_CONFLICT', `disk ${index} is ${isEnc ? 'already' : 'not'} encrypted`);
      picks.push({ index, layer });
      key = req.op === 'diskEncrypt' ? (req.to ?? { providerId: vm.doc.keySafe?.providerId ?? '', keyId: vm.doc.keySafe?.keyId ?? '' }) : undefined;
      break;
    }
  }
  if (req.op !== 'decrypt' && req.op !== 'diskDecrypt' && key === undefined) throw new HostError('HOST_BAD_REQUEST', `an in-place ${req.op} needs the new key`);
  const op = DISK_OP[req.op];
  const disks: InPlaceDiskEntry[] = [];
  let wrappedVmDek: string | undefined;
  const wrapNew = (keyId: string): string => {
    const dek = generateDek();
    try {
      return cache.with(keyId, (kek) => wrapDekFor(kek, dek, keyId));
    } finally {
      dek.fill(0);
    }
  };
  for (const { index, layer } of picks) {
    if (layer.dir !== undefined) throw new HostError('HOST_RULE', `disk ${index} lives outside the VM directory`);
    const to = op === 'rekey' ? layer.file : await finalName(vm, layer.file, op === 'encrypt' ? 'luks' : 'raw');
    const base = { disk: index, file: layer.file, to };
    if (op === 'decrypt') disks.push({ ...base, luksUuid: (await diskInfo(join(vm.dir, layer.file))).uuid });
    else disks.push({ ...base, wrappedDek: wrapNew((key as NewKey).keyId) });
  }
  if (req.op === 'encrypt' || req.op === 'rekey') wrappedVmDek = wrapNew((key as NewKey).keyId);
  const pending: InPlacePending = {
    op: req.op, startedAt: new Date().toISOString(), disks,
    ...(key === undefined ? {} : { key: { providerId: key.providerId, keyId: key.keyId } }),
    ...(wrappedVmDek === undefined ? {} : { wrappedVmDek }),
  };
  await writeVmx(vm.vmxPath, encodeVmx({ ...clearOf(vm.doc), inPlace: pending }, vm.config, vm.vmDek));
  return pending;
}

function unwrapNew(vm: OpenVm, cache: KeyCache, p: InPlacePending, wrapped: string | undefined, what: string): Buffer {
  const keyId = p.key?.keyId;
  if (wrapped === undefined || keyId === undefined) throw new HostError('HOST_VMX_INVALID', `${vm.vmxPath}: inPlace has no ${what}`);
  if (!cache.has(keyId)) throw new HostError('HOST_KEY_MISSING', `the in-place ${p.op} of VM ${vm.doc.name} needs key ${keyId}, which is not in this host's key cache; push it first`);
  return cache.with(keyId, (kek) => unwrapDekFor(kek, wrapped, keyId, `${vm.vmxPath}: inPlace ${what}`));
}

/** Step 2: every disk converted and renamed (a disk done before a crash is recognised and skipped). */
async function convertAll(vm: OpenVm, cache: KeyCache, p: InPlacePending, hooks: InPlaceHooks, done: { disks: number; steps: number }): Promise<void> {
  const op = DISK_OP[p.op];
  for (const [rank, entry] of p.disks.entries()) {
    const layer = vm.config.disks[entry.disk]?.layers[0];
    if (layer === undefined || layer.file !== entry.file) throw new HostError('HOST_VMX_INVALID', `${vm.vmxPath}: inPlace disk ${entry.disk} does not match the configuration`);
    const oldDek = op === 'encrypt' ? undefined : layerDek(vm, layer);
    const last = rank === p.disks.length - 1;
    let stepsHere = 0;
    try {
      const newDek = op === 'decrypt' ? undefined : unwrapNew(vm, cache, p, entry.wrappedDek, `disk ${entry.disk} DEK`);
      try {
        await convertDiskInPlace({
          op, dir: vm.dir, entry, oldDek, newDek,
          onProgress: (d) => {
            done.steps++;
            hooks.onProgress?.({ ...d, op: p.op, disk: entry.disk, rank, disks: p.disks.length });
            // TEST-ONLY: a kill -9 mid-walk (of the operation, or of its last disk)
            hooks.faults?.reached('in-place-chunk', done.steps);
            if (last) hooks.faults?.reached('in-place-last-disk-chunk', ++stepsHere);
          },
        });
      } finally {
        newDek?.fill(0);
      }
    } finally {
      oldDek?.fill(0);
    }
    done.disks++;
    hooks.faults?.reached('in-place-disk', rank + 1);
  }
}

function convertedLayer(entry: InPlaceDiskEntry, op: DiskOp, keyId: string | undefined): DiskLayer {
  if (op === 'decrypt') return { file: entry.to, format: 'raw' };
  return { file: entry.to, format: 'luks', wrappedDek: entry.wrappedDek ?? '', ...(keyId === undefined ? {} : { keyId }) };
}

/** Step 3: the one .vmx commit that ends the operation (and removes the mark). */
async function commit(vm: OpenVm, cache: KeyCache, p: InPlacePending): Promise<void> {
  const op = DISK_OP[p.op];
  const byDisk = new Map(p.disks.map((e) => [e.disk, e]));
  if (p.op === 'diskEncrypt' || p.op === 'diskDecrypt') {
    const own = p.key !== undefined && p.key.keyId !== vm.doc.keySafe?.keyId ? p.key.keyId : undefined;
    const disks = vm.config.disks.map((d, i) => {
      const e = byDisk.get(i);
      return e === undefined ? d : { ...d, layers: [convertedLayer(e, op, own)] };
    });
    const config: VmConfig = { ...vm.config, disks };
    await writeVmx(vm.vmxPath, encodeVmx(withKeyIds(clearOf(vm.doc), config), config, vm.vmDek));
    return;
  }
  const newVmDek = p.op === 'decrypt' ? undefined : unwrapNew(vm, cache, p, p.wrappedVmDek, 'VM DEK');
  try {
    await commitRewrite(vm, async () => {
      const disks: VmDisk[] = vm.config.disks.map((d, i) => {
        const e = byDisk.get(i);
        return e === undefined ? d : { ...d, layers: [convertedLayer(e, op, undefined)] };
      });
      if (p.op === 'decrypt') {
        const { keySafe: _k, ...clear } = clearOf(vm.doc);
        return { clear: { ...clear, storagePolicy: 'Datastore Default' }, disks, oldDek: vm.vmDek, newDek: undefined, why: 'decrypted in place' };
      }
      const key = p.key as NewKey;
      const keySafe: KeySafe = { providerId: key.providerId, keyId: key.keyId, wrappedDek: p.wrappedVmDek ?? '' };
      const clear = { ...clearOf(vm.doc), keySafe, ...(p.op === 'encrypt' ? { storagePolicy: 'VM Encryption Policy' } : {}) };
      const why = p.op === 'encrypt' ? `encrypted in place with key ${key.keyId}` : 'deep rekey in place: new VM DEK';
      return { clear, disks, oldDek: vm.vmDek, newDek: newVmDek, why };
    });
  } finally {
    newVmDek?.fill(0);
  }
}
