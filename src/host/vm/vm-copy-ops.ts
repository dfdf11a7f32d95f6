import { randomBytes, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { HostError } from '../errors.js';
import { CryptoMode } from '../host-store.js';
import { requireSpace } from '../datastores.js';
import { VM_NAME_RE } from '../vm-files/vmx.js';
import type { VmConfig } from '../vm-files/vm-config.js';
import { copyVm, CopyMode, type CopyTarget, type SourceDisk } from './vm-copy.js';
import { createSnapshot } from './vm-snapshots.js';
import { saveVm, withOpenVm, type HostContext, type OpenVm } from './vm-open.js';
import type { NewKey } from './vm-recrypt.js';
import type { VmRuntime } from './vm-runtime.js';

/** What the copy operations need of HostVms (its per-VM lock, inventory and runtime). */
export interface VmInventory {
  readonly ctx: HostContext;
  readonly runtime: VmRuntime;
  vmxOf(uuid: string): string;
  serial<T>(uuid: string, fn: () => Promise<T>): Promise<T>;
  add(uuid: string, vmx: string): Promise<void>;
}

export interface CloneSpec {
  readonly name: string;
  readonly datastore: string;
  readonly mode: CopyMode;
  /** Target KEK for encrypt / shallow / deep (deep defaults to the source's). */
  readonly key?: NewKey;
  /** Add the clone to this host's inventory (default true). */
  readonly register: boolean;
}

function datastorePath(ctx: HostContext, name: string): string {
  const p = ctx.store.state.datastores[name];
  if (p === undefined) throw new HostError('HOST_NOT_FOUND', `no datastore named ${name}`);
  return p;
}

function checkName(name: string): void {
  if (!VM_NAME_RE.test(name)) throw new HostError('HOST_BAD_REQUEST', 'name must match [A-Za-z0-9][A-Za-z0-9._-]{0,63}');
}

/** The target key a mode needs, checked against the source (names the rule that refuses). */
function targetKeyOf(vm: OpenVm, mode: CopyMode, key: NewKey | undefined): NewKey | undefined {
  const src = vm.doc.keySafe;
  switch (mode) {
    case CopyMode.KEEP: return src === undefined ? undefined : { providerId: src.providerId, keyId: src.keyId };
    case CopyMode.DECRYPT:
      if (src === undefined) throw new HostError('HOST_BAD_REQUEST', 'mode decrypt needs an encrypted source VM');
      return undefined;
    case CopyMode.ENCRYPT:
      if (src !== undefined) throw new HostError('HOST_BAD_REQUEST', 'mode encrypt needs an unencrypted source VM (use shallow or deep to recrypt)');
      if (key === undefined) throw new HostError('HOST_BAD_REQUEST', 'mode encrypt needs providerId and keyId');
      return key;
    default:
      if (src === undefined) throw new HostError('HOST_BAD_REQUEST', `mode ${mode} needs an encrypted source VM`);
      if (key === undefined && mode === CopyMode.SHALLOW) throw new HostError('HOST_BAD_REQUEST', 'a shallow recrypt clone needs the new providerId and keyId');
      return key ?? { providerId: src.providerId, keyId: src.keyId };
  }
}

function requireSafeWithKey(ctx: HostContext, key: NewKey | undefined): void {
  if (key === undefined) return;
  if (ctx.store.state.cryptoMode !== CryptoMode.SAFE) throw new HostError('HOST_CRYPTO_MODE', 'encrypted VMs need a crypto-safe host');
  if (!ctx.cache.has(key.keyId)) throw new HostError('HOST_KEY_MISSING', `key ${key.keyId} is not in this host's key cache; push it first`);
}

function spaceOf(config: VmConfig): number {
  return config.disks.reduce((n, d) => n + d.sizeBytes, 0);
}

/** Runs `write` with the target KEK copy (when there is one). */
async function withTargetKey<T>(ctx: HostContext, key: NewKey | undefined, write: (k: CopyTarget['key']) => Promise<T>): Promise<T> {
  if (key === undefined) return write(undefined);
  return ctx.cache.withAsync(key.keyId, (kek) => write({ ...key, kek }));
}

/**
 * Clone (and deploy from a template): the source's current state into a new VM on a
 * datastore of this host. A running source is read through a temporary live snapshot (its
 * frozen layers), which is merged back and removed afterwards.
 */
export async function cloneVm(inv: VmInventory, uuid: string, spec: CloneSpec): Promise<{ uuid: string; vmx: string }> {
  checkName(spec.name);
  const dir = join(datastorePath(inv.ctx, spec.datastore), spec.name);
  const vmxPath = inv.vmxOf(uuid);
  const newUuid = randomUUID();
  const vmx = await inv.serial(uuid, () =>
    withOpenVm(inv.ctx, vmxPath, async (vm) => {
      const key = targetKeyOf(vm, spec.mode, spec.key);
      requireSafeWithKey(inv.ctx, key);
      await requireSpace(inv.ctx, dir, spaceOf(vm.config), `cloning VM ${vm.doc.name}`);
      const target = (k: CopyTarget['key']): CopyTarget => ({
        dir, name: spec.name, uuid: newUuid, mode: spec.mode, storagePolicy: k === undefined ? 'Datastore Default' : 'VM Encryption Policy',
        logLine: `cloned from VM ${vm.doc.name} (${vm.uuid}), mode ${spec.mode}`, ...(k === undefined ? {} : { key: k }),
      });
      if (!inv.runtime.isRunning(uuid)) {
        const sources = vm.config.disks.map((disk): SourceDisk => ({ disk, chain: disk.layers }));
        return withTargetKey(inv.ctx, key, (k) => copyVm(vm, sources, target(k), inv.ctx.faults));
      }
      return cloneRunning(inv, vm, key, target);
    }),
  );
  if (spec.register) await inv.add(newUuid, vmx);
  inv.ctx.events.post('vm.cloned', `VM ${spec.name} cloned from ${uuid} (mode ${spec.mode})`, { vmUuid: newUuid });
  return { uuid: newUuid, vmx };
}

async function cloneRunning(inv: VmInventory, vm: OpenVm, key: NewKey | undefined, target: (k: CopyTarget['key']) => CopyTarget): Promise<string> {
  const tempName = `clone-temp-${randomBytes(4).toString('hex')}`;
  const snap = await createSnapshot(vm, tempName, false, (disk, path, dek) => inv.runtime.attachOverlay(vm.uuid, disk, path, dek));
  try {
    return await withOpenVm(inv.ctx, vm.vmxPath, (live) => {
      const sources = live.config.disks.map((disk): SourceDisk => ({ disk, chain: disk.layers.slice(0, -1) }));
      return withTargetKey(inv.ctx, key, (k) => copyVm(live, sources, target(k), inv.ctx.faults));
    });
  } finally {
    await withOpenVm(inv.ctx, vm.vmxPath, async (live) => {
      const tops = live.config.disks.map((d) => d.layers[d.layers.length - 1]?.file ?? '');
      for (const [d] of live.config.disks.entries()) await inv.runtime.detachOverlay(vm.uuid, d);
      await saveVm(live, {
        ...live.config,
        snapshots: live.config.snapshots.filter((s) => s.id !== snap.id),
        disks: live.config.disks.map((d) => ({ ...d, layers: d.layers.slice(0, -1) })),
      });
      for (const f of tops) await rm(join(live.dir, f), { force: true });
    });
  }
}

/**
 * Export: an unencrypted copy of the VM in `path` (a new directory), as a backup product
 * reading through the host would get it: flattened raw disks, a clear NVRAM and .vmx.
 */
export async function exportVm(inv: VmInventory, uuid: string, path: string): Promise<{ vmx: string }> {
  if (!isAbsolute(path)) throw new HostError('HOST_BAD_REQUEST', 'export path must be absolute');
  const vmxPath = inv.vmxOf(uuid);
  const vmx = await inv.serial(uuid, () =>
    withOpenVm(inv.ctx, vmxPath, async (vm) => {
      if (inv.runtime.isRunning(uuid)) throw new HostError('HOST_POWER_STATE', 'export needs the VM powered off');
      await requireSpace(inv.ctx, path, spaceOf(vm.config), `exporting VM ${vm.doc.name}`);
      const sources = vm.config.disks.map((disk): SourceDisk => ({ disk, chain: disk.layers }));
      return copyVm(vm, sources, {
        dir: path, name: vm.doc.name, uuid: vm.uuid, mode: CopyMode.DECRYPT, storagePolicy: 'Datastore Default',
        logLine: `exported from VM ${vm.doc.name} (${vm.uuid}) on host ${inv.ctx.store.state.name}`,
      }, inv.ctx.faults);
    }),
  );
  inv.ctx.events.post('vm.exported', `VM ${uuid} exported unencrypted to ${path}`, { vmUuid: uuid, location: path });
  return { vmx };
}

/**
 * Restore: a new VM (new uuid) from an export's .vmx, encrypted under `key` or plain; a
 * plain restore posts a warning event saying so.
 */
export async function restoreVm(inv: VmInventory, spec: { vmx: string; name: string; datastore: string; key?: NewKey }): Promise<{ uuid: string; vmx: string }> {
  checkName(spec.name);
  if (!isAbsolute(spec.vmx)) throw new HostError('HOST_BAD_REQUEST', 'vmx must be an absolute path');
  const dir = join(datastorePath(inv.ctx, spec.datastore), spec.name);
  requireSafeWithKey(inv.ctx, spec.key);
  const newUuid = randomUUID();
  const vmx = await withOpenVm(inv.ctx, spec.vmx, async (src) => {
    if (src.doc.keySafe !== undefined) throw new HostError('HOST_BAD_REQUEST', 'restore reads an unencrypted export; this .vmx is encrypted');
    await requireSpace(inv.ctx, dir, spaceOf(src.config), `restoring VM ${spec.name}`);
    const sources = src.config.disks.map((disk): SourceDisk => ({ disk, chain: disk.layers }));
    return withTargetKey(inv.ctx, spec.key, (k) =>
      copyVm(src, sources, {
        dir, name: spec.name, uuid: newUuid, mode: k === undefined ? CopyMode.DECRYPT : CopyMode.ENCRYPT,
        storagePolicy: k === undefined ? 'Datastore Default' : 'VM Encryption Policy',
        logLine: `restored from ${spec.vmx}${k === undefined ? ' (not encrypted)' : `, encrypted with key ${k.keyId}`}`,
        ...(k === undefined ? {} : { key: k }),
      }, inv.ctx.faults),
    );
  });
  await inv.add(newUuid, vmx);
  inv.ctx.events.post('vm.restored', `VM ${spec.name} restored from ${spec.vmx}`, { vmUuid: newUuid });
  if (spec.key === undefined) inv.ctx.events.post('vm.restoredUnencrypted', `warning: VM ${spec.name} was restored without encryption (default storage policy)`, { vmUuid: newUuid });
  return { uuid: newUuid, vmx };
}
