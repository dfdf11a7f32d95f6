import { dirname } from 'node:path';
import { HostError } from '../errors.js';
import type { HostEvents } from '../events.js';
import type { HostStore } from '../host-store.js';
import type { KeyCache } from '../keys/key-cache.js';
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
  if (cache.has(keyId)) return { state: CryptoState.UNLOCKED, keyId, providerId };
  return {
    state: CryptoState.LOCKED,
    keyId,
    providerId,
    reason: `key ${keyId} of key provider ${providerId} is missing on this host (push it from the manager)`,
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
      return await fn({ uuid: doc.uuid, vmxPath, dir, doc, config, kek, vmDek });
    } finally {
      vmDek.fill(0);
    }
  });
}

/** Unwraps a disk layer's DEK with the VM's KEK; the caller zeroes it. */
export function layerDek(vm: OpenVm, layer: DiskLayer): Buffer {
  if (vm.kek === undefined || vm.doc.keySafe === undefined || layer.wrappedDek === undefined) {
    throw new HostError('HOST_VMX_INVALID', `${vm.vmxPath}: layer ${layer.file} has no wrapped DEK`);
  }
  return unwrapDekFor(vm.kek, layer.wrappedDek, vm.doc.keySafe.keyId, `${vm.vmxPath}: wrapped DEK of ${layer.file}`);
}

/** Rewrites the .vmx with `config` (re-sealed under the VM DEK with a fresh nonce). */
export async function saveVm(vm: OpenVm, config: VmConfig): Promise<void> {
  const { encrypted: _e, config: _c, ...clear } = vm.doc;
  await writeVmx(vm.vmxPath, encodeVmx(clear, config, vm.vmDek));
}
