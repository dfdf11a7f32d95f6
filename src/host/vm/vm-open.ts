import { dirname, join } from 'node:path';
import { HostError } from '../errors.js';
import type { HostEvents } from '../events.js';
import type { HostStore } from '../host-store.js';
import type { KeyCache } from '../keys/key-cache.js';
import type { TestFaults } from '../test-faults.js';
import type { DiskLayer, VmConfig } from '../vm-files/vm-config.js';
import { unwrapDekFor } from '../vm-files/vm-crypto.js';
import { encodeVmx, openVmx, readVmx, writeVmx, type VmxDocument } from '../vm-files/vmx.js';

/** What every VM operation gets: the host's state, key cache, events and runtime dir. */
export interface HostContext {
  readonly store: HostStore;
  readonly cache: KeyCache;
  readonly events: HostEvents;
  /** Short path for QMP sockets (unix socket paths are limited to 107 bytes). */
  readonly runDir: string;
  /** TEST-ONLY fault injection (inert unless the agent runs with its test flag). */
  readonly faults?: TestFaults;
}

/** A VM whose configuration is open: for an encrypted VM, with its KEK and VM DEK copies. */
export interface OpenVm {
  readonly uuid: string;
  readonly vmxPath: string;
  readonly dir: string;
  readonly doc: VmxDocument;
  readonly config: VmConfig;
  readonly kek?: Buffer;
  readonly vmDek?: Buffer;
  /** For layers wrapped by another KEK than the VM's (per-disk keys, a rekey part way). */
  readonly cache?: KeyCache;
}

export const CryptoState = {
  NOT_ENCRYPTED: 'notEncrypted',
  UNLOCKED: 'unlocked',
  LOCKED: 'locked',
} as const;
export type CryptoState = (typeof CryptoState)[keyof typeof CryptoState];

export interface CryptoStatus {
  readonly state: CryptoState;
  readonly keyId?: string;
  readonly providerId?: string;
  readonly reason?: string;
}

/** Unlocked when the VM's KEK is in the cache; locked (with why) otherwise. */
export function cryptoStatusOf(cache: KeyCache, doc: VmxDocument): CryptoStatus {
  if (doc.keySafe === undefined) return { state: CryptoState.NOT_ENCRYPTED };
  const { keyId, providerId } = doc.keySafe;
  const missing = [keyId, ...(doc.keySafe.otherKeyIds ?? [])].filter((k) => !cache.has(k));
  if (missing.length === 0) return { state: CryptoState.UNLOCKED, keyId, providerId };
  return {
    state: CryptoState.LOCKED,
    keyId,
    providerId,
    reason: `key ${missing.join(', ')} of key provider ${providerId} is missing on this host (push it from the manager)`,
  };
}

/**
 * Opens the .vmx at `vmxPath`, decrypting it with the KEK from the cache when encrypted,
 * runs `fn`, and zeroes every key copy afterwards. A locked VM fails with VM_LOCKED.
 */
export async function withOpenVm<T>(ctx: HostContext, vmxPath: string, fn: (vm: OpenVm) => Promise<T>): Promise<T> {
  const doc = await readVmx(vmxPath);
  const dir = dirname(vmxPath);
  if (doc.keySafe === undefined) {
    if (doc.config === undefined) throw new HostError('HOST_VMX_INVALID', `${vmxPath}: no configuration`);
    return fn({ uuid: doc.uuid, vmxPath, dir, doc, config: doc.config });
  }
  const status = cryptoStatusOf(ctx.cache, doc);
  if (status.state === CryptoState.LOCKED) {
    throw new HostError('HOST_VM_LOCKED', `VM ${doc.name} is locked: ${status.reason ?? ''}`);
  }
  const keyId = doc.keySafe.keyId;
  return ctx.cache.withAsync(keyId, async (kek) => {
    const { config, vmDek } = openVmx(doc, kek, vmxPath);
    try {
      return await fn({ uuid: doc.uuid, vmxPath, dir, doc, config, kek, vmDek, cache: ctx.cache });
    } finally {
      vmDek.fill(0);
    }
  });
}

/** The KEK id wrapping a layer's DEK (its own, else the VM's). */
export function layerKeyId(vm: OpenVm, layer: DiskLayer): string | undefined {
  if (layer.wrappedDek === undefined) return undefined;
  return layer.keyId ?? vm.doc.keySafe?.keyId;
}

/** Where a layer's file is (instant clones run on their parent's layers). */
export function layerPath(vm: { readonly dir: string }, layer: DiskLayer): string {
  return join(layer.dir ?? vm.dir, layer.file);
}

/** Unwraps a disk layer's DEK with the KEK that wraps it; the caller zeroes it. */
export function layerDek(vm: OpenVm, layer: DiskLayer): Buffer {
  if (vm.kek === undefined || vm.doc.keySafe === undefined || layer.wrappedDek === undefined) {
    throw new HostError('HOST_VMX_INVALID', `${vm.vmxPath}: layer ${layer.file} has no wrapped DEK`);
  }
  const what = `${vm.vmxPath}: wrapped DEK of ${layer.file}`;
  const keyId = layer.keyId ?? vm.doc.keySafe.keyId;
  if (keyId === vm.doc.keySafe.keyId) return unwrapDekFor(vm.kek, layer.wrappedDek, keyId, what);
  const cache = vm.cache;
  if (cache === undefined || !cache.has(keyId)) throw new HostError('HOST_KEY_MISSING', `${what}: key ${keyId} is not in this host's key cache; push it first`);
  const wrapped = layer.wrappedDek;
  return cache.with(keyId, (kek) => unwrapDekFor(kek, wrapped, keyId, what));
}

/** Distinct layer KEK ids other than the VM's: what keySafe.otherKeyIds must list. */
export function otherKeyIdsOf(config: VmConfig, vmKeyId: string): string[] {
  const ids = new Set<string>();
  for (const d of config.disks) for (const l of [...d.layers, ...(d.otherLayers ?? [])]) if (l.keyId !== undefined && l.keyId !== vmKeyId) ids.add(l.keyId);
  return [...ids].sort();
}

/** Rewrites the .vmx with `config` (re-sealed under the VM DEK with a fresh nonce). */
export async function saveVm(vm: OpenVm, config: VmConfig): Promise<void> {
  const { encrypted: _e, config: _c, ...clear } = vm.doc;
  await writeVmx(vm.vmxPath, encodeVmx(withKeyIds(clear, config), config, vm.vmDek));
}

/** The clear part with keySafe.otherKeyIds matching `config`'s layers. */
export function withKeyIds<T extends Omit<VmxDocument, 'encrypted' | 'config'>>(clear: T, config: VmConfig): T {
  if (clear.keySafe === undefined) return clear;
  const { otherKeyIds: _o, ...ks } = clear.keySafe;
  const other = otherKeyIdsOf(config, ks.keyId);
  return { ...clear, keySafe: other.length === 0 ? ks : { ...ks, otherKeyIds: other } };
}
