import { resolve } from 'node:path';
import { HostError } from '../errors.js';
import { createSnapshot, deleteSnapshot, revertSnapshot } from './vm-snapshots.js';
import { decryptVm, deepRekey, encryptVm, shallowRekey, type NewKey } from './vm-recrypt.js';
import { CryptoMode } from '../host-store.js';
import { createVm, type CreateVmSpec } from './vm-create.js';
import { cryptoStatusOf, withOpenVm, type CryptoStatus, type HostContext } from './vm-open.js';
import { VmRuntime, type PowerState } from './vm-runtime.js';
import { readVmx } from '../vm-files/vmx.js';
import type { VmSnapshot } from '../vm-files/vm-config.js';

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
  readonly disks?: ReadonlyArray<{ id: string; sizeBytes: number; layers: ReadonlyArray<{ file: string; format: string }> }>;
  readonly snapshots?: readonly VmSnapshot[];
  readonly error?: string;
}

/** The VMs registered on this host and every operation on them. */
export class HostVms {
  readonly #ctx: HostContext;
  readonly runtime: VmRuntime;
  /** Serialises operations per VM (power, snapshot, …). */
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(ctx: HostContext) {
    this.#ctx = ctx;
    this.runtime = new VmRuntime(ctx);
  }

  #entry(uuid: string): { uuid: string; vmx: string } {
    const e = this.#ctx.store.state.vms.find((v) => v.uuid === uuid);
    if (e === undefined) throw new HostError('HOST_NOT_FOUND', `no VM ${uuid} on this host`);
    return e;
  }

  async #serial<T>(uuid: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#locks.get(uuid) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    this.#locks.set(uuid, next);
    try {
      return await next;
    } finally {
      if (this.#locks.get(uuid) === next) this.#locks.delete(uuid);
    }
  }

  async list(): Promise<VmSummary[]> {
    return Promise.all(this.#ctx.store.state.vms.map((v) => this.get(v.uuid)));
  }

  async get(uuid: string): Promise<VmSummary> {
    const e = this.#entry(uuid);
    let doc;
    try {
      doc = await readVmx(e.vmx);
    } catch (err) {
      return {
        uuid, name: '?', vmx: e.vmx, encrypted: false, storagePolicy: '?',
        crypto: { state: 'locked', reason: 'the .vmx cannot be read' },
        powerState: this.runtime.powerState(uuid),
        error: err instanceof Error ? err.message : String(err),
      };
    }
    const crypto = cryptoStatusOf(this.#ctx.cache, doc);
    const pid = this.runtime.pidOf(uuid);
    const base: VmSummary = {
      uuid, name: doc.name, vmx: e.vmx, encrypted: doc.keySafe !== undefined, storagePolicy: doc.storagePolicy,
      crypto, powerState: this.runtime.powerState(uuid), ...(pid === undefined ? {} : { qemuPid: pid }),
    };
    if (crypto.state === 'locked') return base;
    try {
      return await withOpenVm(this.#ctx, e.vmx, async (vm) => ({
        ...base,
        memoryMiB: vm.config.memoryMiB,
        disks: vm.config.disks.map((d) => ({ id: d.id, sizeBytes: d.sizeBytes, layers: d.layers.map((l) => ({ file: l.file, format: l.format })) })),
        snapshots: vm.config.snapshots,
      }));
    } catch (err) {
      return { ...base, error: err instanceof Error ? err.message : String(err) };
    }
  }

  async create(spec: CreateVmSpec): Promise<VmSummary> {
    const { uuid, vmxPath } = await createVm(this.#ctx, spec);
    await this.#ctx.store.update((s) => ({ ...s, vms: [...s.vms, { uuid, vmx: vmxPath }] }));
    this.#ctx.events.post('vm.created', `VM ${spec.name} created`, { vmUuid: uuid });
    return this.get(uuid);
  }

  /** Adds an existing VM directory (e.g. on a shared datastore) to this host's inventory. */
  async register(vmxPath: string): Promise<VmSummary> {
    const path = resolve(vmxPath);
    const doc = await readVmx(path);
    if (this.#ctx.store.state.vms.some((v) => v.uuid === doc.uuid)) throw new HostError('HOST_CONFLICT', `VM ${doc.uuid} is already registered`);
    await this.#ctx.store.update((s) => ({ ...s, vms: [...s.vms, { uuid: doc.uuid, vmx: path }] }));
    return this.get(doc.uuid);
  }

  async unregister(uuid: string): Promise<void> {
    this.#entry(uuid);
    if (this.runtime.isRunning(uuid)) throw new HostError('HOST_POWER_STATE', 'power the VM off first');
    await this.#ctx.store.update((s) => ({ ...s, vms: s.vms.filter((v) => v.uuid !== uuid) }));
  }

  power(uuid: string, action: string): Promise<VmSummary> {
    const e = this.#entry(uuid);
    return this.#serial(uuid, async () => {
      switch (action) {
        case 'on': await this.runtime.powerOn(e.vmx); break;
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
      withOpenVm(this.#ctx, e.vmx, (vm) =>
        createSnapshot(vm, name, false, this.runtime.isRunning(uuid) ? (disk, path, dek) => this.runtime.attachOverlay(uuid, disk, path, dek) : undefined),
      ),
    );
  }

  snapshotRevert(uuid: string, id: string): Promise<void> {
    return this.#offline(uuid, 'reverting to a snapshot', (vmx) => withOpenVm(this.#ctx, vmx, (vm) => revertSnapshot(vm, id)));
  }

  snapshotDelete(uuid: string, id: string): Promise<void> {
    return this.#offline(uuid, 'deleting a snapshot', (vmx) => withOpenVm(this.#ctx, vmx, (vm) => deleteSnapshot(vm, id)));
  }

  #requireKey(to: NewKey): void {
    if (this.#ctx.store.state.cryptoMode !== CryptoMode.SAFE) throw new HostError('HOST_CRYPTO_MODE', 'encryption changes need a crypto-safe host');
    if (!this.#ctx.cache.has(to.keyId)) throw new HostError('HOST_KEY_MISSING', `key ${to.keyId} is not in this host's key cache; push it first`);
  }

  /** Shallow (new KEK, rewrap; VM may run) or deep (new DEKs, data rewritten; powered off) rekey. */
  rekey(uuid: string, to: NewKey, deep: boolean): Promise<VmSummary> {
    this.#requireKey(to);
    const e = this.#entry(uuid);
    const run = async (): Promise<VmSummary> => {
      await withOpenVm(this.#ctx, e.vmx, (vm) => (deep ? deepRekey(vm, this.#ctx.cache, to) : shallowRekey(vm, this.#ctx.cache, to)));
      this.#ctx.events.post('vm.rekeyed', `VM ${uuid} ${deep ? 'deep' : 'shallow'} rekeyed to key ${to.keyId}`, { vmUuid: uuid });
      return this.get(uuid);
    };
    return deep ? this.#offline(uuid, 'a deep rekey', run) : this.#serial(uuid, run);
  }

  encrypt(uuid: string, to: NewKey): Promise<VmSummary> {
    this.#requireKey(to);
    return this.#offline(uuid, 'encrypting a VM', async (vmx) => {
      await withOpenVm(this.#ctx, vmx, (vm) => encryptVm(vm, this.#ctx.cache, to));
      this.#ctx.events.post('vm.encrypted', `VM ${uuid} encrypted with key ${to.keyId}`, { vmUuid: uuid });
      return this.get(uuid);
    });
  }

  decrypt(uuid: string): Promise<VmSummary> {
    return this.#offline(uuid, 'decrypting a VM', async (vmx) => {
      await withOpenVm(this.#ctx, vmx, (vm) => decryptVm(vm));
      this.#ctx.events.post('vm.decrypted', `VM ${uuid} decrypted`, { vmUuid: uuid });
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

  /** Event per VM whose key just arrived: it unlocks without operator action. */
  async onKeysPushed(keyIds: readonly string[]): Promise<void> {
    for (const v of this.#ctx.store.state.vms) {
      const doc = await readVmx(v.vmx).catch(() => undefined);
      if (doc?.keySafe !== undefined && keyIds.includes(doc.keySafe.keyId)) {
        this.#ctx.events.post('vm.unlocked', `VM ${doc.name} unlocked: key ${doc.keySafe.keyId} present`, { vmUuid: v.uuid });
      }
    }
  }

  async lockedVms(): Promise<string[]> {
    const out: string[] = [];
    for (const v of this.#ctx.store.state.vms) {
      const doc = await readVmx(v.vmx).catch(() => undefined);
      if (doc !== undefined && cryptoStatusOf(this.#ctx.cache, doc).state === 'locked') out.push(v.uuid);
    }
    return out;
  }
}
