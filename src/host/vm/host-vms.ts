import { resolve } from 'node:path';
import { HostError } from '../errors.js';
import { createSnapshot, deleteSnapshot, revertSnapshot } from './vm-snapshots.js';
import { decryptVm, deepRekey, encryptVm, type NewKey } from './vm-recrypt.js';
import { shallowRekey } from './shallow-rekey.js';
import { decryptVmDisk, encryptVmDisk } from './disk-crypto.js';
import { currentSnapshot, snapshotTree, type SnapshotNode } from './snapshot-tree.js';
import { requireSpace } from '../datastores.js';
import type { VmInventory } from './vm-copy-ops.js';
import type { VmxDocument } from '../vm-files/vmx.js';
import { CryptoMode } from '../host-store.js';
import { createVm, type CreateVmSpec } from './vm-create.js';
import { cryptoStatusOf, withOpenVm, type CryptoStatus, type HostContext } from './vm-open.js';
import { VmRuntime, type PowerState } from './vm-runtime.js';
import { readVmx } from '../vm-files/vmx.js';
import { indexEntryOf, readIndexEntry, VmKeyIndex } from './vm-key-index.js';
import { linkInstantClone, unlinkInstantClone } from './instant-clone-links.js';
import type { VmSnapshot } from '../vm-files/vm-config.js';
import { InPlaceOps, type InPlaceView } from './in-place-ops.js';

/** What the API shows of a VM. Locked VMs show only their clear part and why they are locked. */
export interface VmSummary {
  readonly uuid: string;
  readonly name: string;
  readonly vmx: string;
  readonly encrypted: boolean;
  readonly storagePolicy: string;
  readonly crypto: CryptoStatus;
  readonly powerState: PowerState;
  readonly qemuPid?: number;
  readonly memoryMiB?: number;
  readonly disks?: ReadonlyArray<{
    id: string; sizeBytes: number; encrypted: boolean;
    layers: ReadonlyArray<{ file: string; format: string; keyId: string | null; shared: boolean }>;
  }>;
  readonly snapshots?: readonly VmSnapshot[];
  readonly snapshotTree?: { snapshots: SnapshotNode[]; current: string | null; branches: number };
  /** Some layers are under another key than the VM's because a shallow rekey stopped part way. */
  readonly mixedKeys: boolean;
  /** The rekey a rerun finishes (set while mixedKeys). */
  readonly pendingRekey?: { providerId: string; keyId: string };
  /** Every KEK id this VM needs (the VM's and the other layers'). */
  readonly keyIds: readonly string[];
  readonly instantClones: readonly string[];
  /** Uuid of the VM this one is an instant clone of. */
  readonly instantCloneParent?: string;
  /** The snapshot the current state sits on ("You are here"). */
  readonly currentSnapshotId?: string;
  readonly error?: string;
  /** An in-place encrypt/decrypt/deep rekey is unfinished (and its progress while it runs). */
  readonly inPlace?: InPlaceView;
}

/** Queued operations per VM beyond which a new one is refused with HOST_BUSY. */
export const MAX_QUEUED_OPS_PER_VM = 8;

/** The VMs registered on this host and every operation on them. */
export class HostVms {
  readonly #ctx: HostContext;
  readonly runtime: VmRuntime;
  /** In-place encryption changes: progress, and the guard against using a half-converted VM. */
  readonly #inPlace: InPlaceOps;
  /** Serialises operations per VM (power, snapshot, …): a second one waits its turn. */
  readonly #locks = new Map<string, Promise<unknown>>();
  readonly #queued = new Map<string, number>();
  /** Which VM needs which key ids (from the .vmx clear parts): see loadIndex. */
  #index = new VmKeyIndex();
  /** Operations started so far: a read for the index that overlapped one is not used. */
  #opsStarted = 0;

  constructor(ctx: HostContext) {
    this.#ctx = ctx;
    this.runtime = new VmRuntime(ctx);
    this.#inPlace = new InPlaceOps(ctx);
  }

  /**
   * Reads every registered .vmx clear part once (agent start). From then on the index follows
   * this host's own changes; a .vmx another host rewrote on a shared datastore is seen again
   * when this host next reads that VM (GET of the VM or the list, any operation on it).
   */
  loadIndex(): void {
    this.#index = VmKeyIndex.build(this.#ctx.store.state.vms);
  }

  /** Latest re-read per VM: an older read that completes later must not win. */
  readonly #reads = new Map<string, number>();

  /** Re-reads one VM's clear part into the index (after an operation that may rewrite it). */
  async #reindex(uuid: string): Promise<void> {
    const e = this.#ctx.store.state.vms.find((v) => v.uuid === uuid);
    if (e === undefined) {
      this.#index.delete(uuid);
      return;
    }
    const n = (this.#reads.get(uuid) ?? 0) + 1;
    this.#reads.set(uuid, n);
    const entry = await readIndexEntry(e.vmx);
    if (this.#reads.get(uuid) !== n) return;
    this.#reads.delete(uuid);
    if (this.#registered(uuid)) this.#index.set(uuid, entry);
  }

  #entry(uuid: string): { uuid: string; vmx: string } {
    const e = this.#ctx.store.state.vms.find((v) => v.uuid === uuid);
    if (e === undefined) throw new HostError('HOST_NOT_FOUND', `no VM ${uuid} on this host`);
    return e;
  }

  async #serial<T>(uuid: string, fn: () => Promise<T>): Promise<T> {
    const queued = this.#queued.get(uuid) ?? 0;
    if (queued >= MAX_QUEUED_OPS_PER_VM) throw new HostError('HOST_BUSY', `VM ${uuid} has ${queued} operations in progress or waiting; retry later`);
    this.#queued.set(uuid, queued + 1);
    this.#opsStarted++;
    const prev = this.#locks.get(uuid) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    this.#locks.set(uuid, next);
    try {
      return await next;
    } finally {
      // any operation may have rewritten the .vmx (keys, layers, instant-clone links)
      await this.#reindex(uuid);
      if (this.#locks.get(uuid) === next) this.#locks.delete(uuid);
      const n = (this.#queued.get(uuid) ?? 1) - 1;
      if (n <= 0) this.#queued.delete(uuid);
      else this.#queued.set(uuid, n);
    }
  }

  /** The seam the copy operations (clone, export, restore, instant clone) use. */
  get inventory(): VmInventory {
    return {
      ctx: this.#ctx,
      runtime: this.runtime,
      vmxOf: (uuid) => this.#entry(uuid).vmx,
      serial: (uuid, fn) => this.#serial(uuid, async () => {
        // a VM half-converted in place is not copied, moved or migrated until the rerun finishes it
        const vmx = this.#ctx.store.state.vms.find((v) => v.uuid === uuid)?.vmx;
        const doc = vmx === undefined ? undefined : await readVmx(vmx).catch(() => undefined);
        if (doc !== undefined) this.#inPlace.refuse(doc, 'copying, moving or migrating it');
        return fn();
      }),
      add: async (uuid, vmx) => {
        if (this.#ctx.store.state.vms.some((v) => v.uuid === uuid)) return;
        await this.#ctx.store.update((s) => ({ ...s, vms: [...s.vms, { uuid, vmx }] }));
        await this.#reindex(uuid);
      },
    };
  }

  async list(): Promise<VmSummary[]> {
    return Promise.all(this.#ctx.store.state.vms.map((v) => this.get(v.uuid)));
  }

  async get(uuid: string): Promise<VmSummary> {
    const e = this.#entry(uuid);
    let doc;
    // an operation re-indexes when it ends; a read that overlapped one may be older than that
    const ops = this.#opsStarted;
    const fresh = (): boolean => ops === this.#opsStarted && !this.#locks.has(uuid) && this.#registered(uuid);
    try {
      doc = await readVmx(e.vmx);
    } catch (err) {
      if (fresh()) this.#index.set(uuid, { name: '?', keyIds: [], unreadable: true });
      return {
        uuid, name: '?', vmx: e.vmx, encrypted: false, storagePolicy: '?',
        crypto: { state: 'locked', reason: 'the .vmx cannot be read' },
        powerState: this.runtime.powerState(uuid), mixedKeys: false, keyIds: [], instantClones: [],
        error: err instanceof Error ? err.message : String(err),
      };
    }
    if (fresh()) this.#index.set(uuid, indexEntryOf(doc));
    const crypto = cryptoStatusOf(this.#ctx.cache, doc);
    const pid = this.runtime.pidOf(uuid);
    const ks = doc.keySafe;
    const base: VmSummary = {
      uuid, name: doc.name, vmx: e.vmx, encrypted: ks !== undefined, storagePolicy: doc.storagePolicy,
      crypto, powerState: this.runtime.powerState(uuid), ...(pid === undefined ? {} : { qemuPid: pid }),
      mixedKeys: ks?.pendingRekey !== undefined,
      ...(ks?.pendingRekey === undefined ? {} : { pendingRekey: ks.pendingRekey }),
      keyIds: ks === undefined ? [] : [ks.keyId, ...(ks.otherKeyIds ?? [])],
      instantClones: doc.instantClones ?? [],
      ...(doc.instantCloneOf === undefined ? {} : { instantCloneParent: doc.instantCloneOf }),
      ...this.#inPlace.view(uuid, doc.inPlace),
    };
    if (crypto.state === 'locked') return base;
    try {
      return await withOpenVm(this.#ctx, e.vmx, async (vm) => ({
        ...base,
        memoryMiB: vm.config.memoryMiB,
        disks: vm.config.disks.map((d) => ({
          id: d.id, sizeBytes: d.sizeBytes, encrypted: d.layers.some((l) => l.wrappedDek !== undefined),
          layers: d.layers.map((l) => ({ file: l.file, format: l.format, keyId: l.wrappedDek === undefined ? null : (l.keyId ?? ks?.keyId ?? null), shared: l.dir !== undefined })),
        })),
        snapshots: vm.config.snapshots,
        snapshotTree: snapshotTree(vm.config, ks?.keyId),
        ...withCurrent(currentSnapshot(vm.config)?.id),
      }));
    } catch (err) {
      return { ...base, error: err instanceof Error ? err.message : String(err) };
    }
  }

  async create(spec: CreateVmSpec): Promise<VmSummary> {
    const { uuid, vmxPath } = await createVm(this.#ctx, spec);
    await this.#ctx.store.update((s) => ({ ...s, vms: [...s.vms, { uuid, vmx: vmxPath }] }));
    await this.#reindex(uuid);
    this.#ctx.events.post('vm.created', `VM ${spec.name} created`, { vmUuid: uuid });
    return this.get(uuid);
  }

  /**
   * Adds an existing VM directory (e.g. on a shared datastore) to this host's inventory;
   * `incoming` marks a registration for a live migration until `arrived` (see HostState.vms).
   */
  async register(vmxPath: string, incoming?: string): Promise<VmSummary> {
    const path = resolve(vmxPath);
    const doc = await readVmx(path);
    if (this.#registered(doc.uuid)) throw new HostError('HOST_CONFLICT', `VM ${doc.uuid} is already registered`);
    const entry = incoming === undefined ? { uuid: doc.uuid, vmx: path } : { uuid: doc.uuid, vmx: path, incoming };
    await this.#ctx.store.update((s) => ({ ...s, vms: [...s.vms, entry] }));
    this.#index.set(doc.uuid, indexEntryOf(doc));
    // an instant clone back on its parent's host: the parent's mark protects its layers again
    const parent = doc.instantCloneOf === undefined ? undefined : this.#ctx.store.state.vms.find((v) => v.uuid === doc.instantCloneOf);
    if (parent !== undefined) await this.#serial(parent.uuid, () => linkInstantClone(parent.vmx, doc.uuid));
    return this.get(doc.uuid);
  }

  /** The live migration that registered `uuid` here has arrived: the registration is this host's now. */
  async arrived(uuid: string): Promise<void> {
    await this.#ctx.store.update((s) => ({ ...s, vms: s.vms.map((v) => (v.uuid === uuid ? { uuid: v.uuid, vmx: v.vmx } : v)) }));
  }

  /**
   * Agent start: registrations of live migrations that never arrived (the agent was killed
   * mid-migration) are dropped, files untouched; the VM kept running on its source.
   */
  async dropUnarrived(): Promise<ReadonlyArray<{ readonly uuid: string; readonly vmx: string }>> {
    const stale = this.#ctx.store.state.vms.filter((v) => v.incoming !== undefined);
    if (stale.length === 0) return [];
    await this.#ctx.store.update((s) => ({ ...s, vms: s.vms.filter((v) => v.incoming === undefined) }));
    for (const v of stale) this.#ctx.events.post('vm.migration.incomingFailed', `incoming migration ${v.incoming ?? ''} did not finish before the agent stopped: VM unregistered here (files untouched)`, { vmUuid: v.uuid });
    return stale.map((v) => ({ uuid: v.uuid, vmx: v.vmx }));
  }

  /**
   * Removes the VM from this host's inventory (its files stay). An instant clone is first
   * taken off its parent's `instantClones` (when the parent is registered here), so the last
   * child leaving clears the parent's mark and its key changes and snapshot deletes are
   * allowed again.
   */
  async unregister(uuid: string): Promise<void> {
    const e = this.#entry(uuid);
    if (this.runtime.isRunning(uuid)) throw new HostError('HOST_POWER_STATE', 'power the VM off first');
    const doc = await readVmx(e.vmx).catch(() => undefined);
    const parent = doc?.instantCloneOf === undefined ? undefined : this.#ctx.store.state.vms.find((v) => v.uuid === doc.instantCloneOf);
    if (parent !== undefined) await this.#serial(parent.uuid, () => unlinkInstantClone(parent.vmx, uuid));
    await this.#ctx.store.update((s) => ({ ...s, vms: s.vms.filter((v) => v.uuid !== uuid) }));
    this.#index.delete(uuid);
  }

  #registered(uuid: string): boolean {
    return this.#ctx.store.state.vms.some((v) => v.uuid === uuid);
  }

  power(uuid: string, action: string): Promise<VmSummary> {
    const e = this.#entry(uuid);
    return this.#serial(uuid, async () => {
      switch (action) {
        case 'on': await this.#inPlace.refuseAt(e.vmx, 'powering on'); await this.runtime.powerOn(e.vmx); break;
        case 'off': await this.runtime.powerOff(uuid); break;
        case 'reset': await this.runtime.reset(uuid); break;
        case 'suspend': await this.#refuseIfEncrypted(e.vmx, 'suspend/resume'); await this.runtime.suspend(uuid); break;
        case 'resume': await this.runtime.resume(uuid); break;
        default: throw new HostError('HOST_BAD_REQUEST', `unknown power action '${action}' (on, off, reset, suspend, resume)`);
      }
      return this.get(uuid);
    });
  }

  async #refuseIfEncrypted(vmx: string, what: string): Promise<void> {
    const doc = await readVmx(vmx);
    if (doc.keySafe !== undefined) throw new HostError('HOST_UNSUPPORTED_ENCRYPTED', `${what} is not supported on encrypted VMs`);
  }

  #offline<T>(uuid: string, what: string, fn: (vmx: string) => Promise<T>): Promise<T> {
    const e = this.#entry(uuid);
    return this.#serial(uuid, async () => {
      if (this.runtime.isRunning(uuid)) throw new HostError('HOST_POWER_STATE', `${what} needs the VM powered off`);
      return fn(e.vmx);
    });
  }

  snapshotCreate(uuid: string, name: string, memory: boolean): Promise<VmSnapshot> {
    if (memory) {
      // refuse with the real reason before any power-state check
      const e = this.#entry(uuid);
      return this.#refuseIfEncrypted(e.vmx, 'memory snapshots').then(() => {
        throw new HostError('HOST_BAD_REQUEST', 'memory snapshots are not supported by this host; take a disk-only snapshot');
      });
    }
    const e = this.#entry(uuid);
    return this.#serial(uuid, () =>
      withOpenVm(this.#ctx, e.vmx, (vm) => {
        this.#inPlace.refuse(vm.doc, 'a snapshot');
        return createSnapshot(vm, name, false, this.runtime.isRunning(uuid) ? (disk, path, dek) => this.runtime.attachOverlay(uuid, disk, path, dek) : undefined);
      }),
    );
  }

  snapshotRevert(uuid: string, id: string): Promise<void> {
    return this.#offline(uuid, 'reverting to a snapshot', (vmx) => withOpenVm(this.#ctx, vmx, (vm) => revertSnapshot(vm, id)));
  }

  snapshotDelete(uuid: string, id: string): Promise<void> {
    return this.#offline(uuid, 'deleting a snapshot', async (vmx) => {
      const doc = await readVmx(vmx);
      if ((doc.instantClones ?? []).length > 0) throw new HostError('HOST_RULE', 'VM has instant clones: its snapshots hold their disks and cannot be deleted');
      await withOpenVm(this.#ctx, vmx, (vm) => deleteSnapshot(vm, id));
    });
  }

  /** Refuses key, encryption and policy changes of instant-clone parents and children (seeds). */
  async #refuseInstantClones(vmx: string, what: string): Promise<VmxDocument> {
    const doc = await readVmx(vmx);
    if ((doc.instantClones ?? []).length > 0) throw new HostError('HOST_RULE', `${what} refused: VM has instant clones`);
    if (doc.instantCloneOf !== undefined) throw new HostError('HOST_RULE', `${what} refused: VM is an instant clone`);
    return doc;
  }

  /** Per-disk encryption (Enable-/Disable-VMDiskEncryption); powered off, no snapshots. */
  diskCrypto(uuid: string, disk: number, action: 'encrypt' | 'decrypt', key?: NewKey, inPlace = false): Promise<VmSummary> {
    if (key !== undefined) this.#requireKey(key);
    return this.#offline(uuid, `${action}ing a disk`, async (vmx) => {
      await this.#refuseInstantClones(vmx, `${action}ing a disk`);
      let how = '';
      await withOpenVm(this.#ctx, vmx, async (vm) => {
        if (action === 'encrypt' && vm.doc.keySafe !== undefined && this.#ctx.store.state.cryptoMode !== CryptoMode.SAFE) throw new HostError('HOST_CRYPTO_MODE', 'encryption changes need a crypto-safe host');
        if (this.#inPlace.wanted(vm, inPlace)) {
          how = ' in place';
          return this.#inPlace.run(vm, { op: action === 'encrypt' ? 'diskEncrypt' : 'diskDecrypt', to: key, disk }, `${action}ing disk ${disk} of VM ${vm.doc.name}`);
        }
        await requireSpace(this.#ctx, vm.dir, vm.config.disks[disk]?.sizeBytes ?? 0, `${action}ing disk ${disk} of VM ${vm.doc.name}`);
        await (action === 'encrypt' ? encryptVmDisk(vm, disk, key) : decryptVmDisk(vm, disk));
      });
      this.#ctx.events.post(`vm.disk.${action}ed`, `VM ${uuid} disk ${disk} ${action}ed${how}`, { vmUuid: uuid });
      return this.get(uuid);
    });
  }

  /** The snapshot tree (GET …/snapshots). */
  async snapshotList(uuid: string): Promise<{ snapshots: SnapshotNode[]; current: string | null; branches: number }> {
    const v = await this.get(uuid);
    if (v.snapshotTree === undefined) throw new HostError('HOST_VM_LOCKED', `VM ${uuid} is locked: ${v.crypto.reason ?? v.error ?? ''}`);
    return v.snapshotTree;
  }

  #requireKey(to: NewKey): void {
    if (this.#ctx.store.state.cryptoMode !== CryptoMode.SAFE) throw new HostError('HOST_CRYPTO_MODE', 'encryption changes need a crypto-safe host');
    if (!this.#ctx.cache.has(to.keyId)) throw new HostError('HOST_KEY_MISSING', `key ${to.keyId} is not in this host's key cache; push it first`);
  }

  /** Shallow (new KEK, rewrap; VM may run) or deep (new DEKs, data rewritten; powered off) rekey. */
  rekey(uuid: string, to: NewKey, deep: boolean, inPlace = false): Promise<VmSummary> {
    this.#requireKey(to);
    const e = this.#entry(uuid);
    const run = async (): Promise<VmSummary> => {
      await this.#refuseInstantClones(e.vmx, deep ? 'a deep rekey' : 'a shallow rekey');
      let how = '';
      await withOpenVm(this.#ctx, e.vmx, async (vm) => {
        if (!deep) {
          this.#inPlace.refuse(vm.doc, 'a shallow rekey');
          return shallowRekey(vm, this.#ctx.cache, to, this.#ctx.faults);
        }
        if (this.#inPlace.wanted(vm, inPlace)) {
          how = ' in place';
          return this.#inPlace.run(vm, { op: 'rekey', to }, `deep rekey of VM ${vm.doc.name}`);
        }
        await requireSpace(this.#ctx, vm.dir, vm.config.disks.reduce((n, d) => n + d.sizeBytes, 0), `deep rekey of VM ${vm.doc.name}`);
        return deepRekey(vm, this.#ctx.cache, to);
      });
      this.#ctx.events.post('vm.rekeyed', `VM ${uuid} ${deep ? 'deep' : 'shallow'} rekeyed to key ${to.keyId}${how}`, { vmUuid: uuid });
      return this.get(uuid);
    };
    return deep ? this.#offline(uuid, 'a deep rekey', run) : this.#serial(uuid, run);
  }

  encrypt(uuid: string, to: NewKey, inPlace = false): Promise<VmSummary> {
    this.#requireKey(to);
    return this.#offline(uuid, 'encrypting a VM', async (vmx) => {
      await this.#refuseInstantClones(vmx, 'encrypting a VM');
      let how = '';
      await withOpenVm(this.#ctx, vmx, async (vm) => {
        if (this.#inPlace.wanted(vm, inPlace)) {
          how = ' in place';
          return this.#inPlace.run(vm, { op: 'encrypt', to }, `encrypting VM ${vm.doc.name}`);
        }
        await requireSpace(this.#ctx, vm.dir, vm.config.disks.reduce((n, d) => n + d.sizeBytes, 0), `encrypting VM ${vm.doc.name}`);
        await encryptVm(vm, this.#ctx.cache, to);
      });
      this.#ctx.events.post('vm.encrypted', `VM ${uuid} encrypted with key ${to.keyId}${how}`, { vmUuid: uuid });
      return this.get(uuid);
    });
  }

  decrypt(uuid: string, inPlace = false): Promise<VmSummary> {
    return this.#offline(uuid, 'decrypting a VM', async (vmx) => {
      await this.#refuseInstantClones(vmx, 'decrypting a VM');
      let how = '';
      await withOpenVm(this.#ctx, vmx, async (vm) => {
        if (this.#inPlace.wanted(vm, inPlace)) {
          how = ' in place';
          return this.#inPlace.run(vm, { op: 'decrypt' }, `decrypting VM ${vm.doc.name}`);
        }
        await requireSpace(this.#ctx, vm.dir, vm.config.disks.reduce((n, d) => n + d.sizeBytes, 0), `decrypting VM ${vm.doc.name}`);
        await decryptVm(vm);
      });
      this.#ctx.events.post('vm.decrypted', `VM ${uuid} decrypted${how}`, { vmUuid: uuid });
      return this.get(uuid);
    });
  }

  qemuIo(uuid: string, disk: number, command: string): Promise<string> {
    this.#entry(uuid);
    return this.runtime.qemuIo(uuid, disk, command);
  }

  memoryDump(uuid: string): Promise<string> {
    const e = this.#entry(uuid);
    return this.#serial(uuid, () => this.runtime.dumpGuestMemory(e.vmx, uuid));
  }

  /**
   * `freshKeyIds` were just added to the cache (not there before): one event per VM they
   * unlocked (every key it needs now present). O(keys + VMs affected), from the index.
   */
  onKeysPushed(freshKeyIds: readonly string[]): void {
    const has = (k: string): boolean => this.#ctx.cache.has(k);
    for (const uuid of this.#index.unlockedBy(freshKeyIds, has)) {
      const v = this.#index.get(uuid);
      if (v === undefined) continue;
      this.#ctx.events.post('vm.unlocked', `VM ${v.name} unlocked: key ${v.keyIds.join(', ')} present`, { vmUuid: uuid });
    }
  }

  /** Registered VMs with a KEK missing from the cache (an unreadable .vmx is not listed). */
  lockedVms(): string[] {
    return this.#index.locked((k) => this.#ctx.cache.has(k));
  }
}

function withCurrent(id: string | undefined): { currentSnapshotId?: string } {
  return id === undefined ? {} : { currentSnapshotId: id };
}
