import { EntityKind, vmRef, Privilege, type Principal, type TaskInfo } from '../../contracts.js';
import { ManagerError } from '../../errors.js';
import { newId } from '../ids.js';
import { datastoreDir, vmxPathIn, type DatastoreRecord } from '../store/datastore-store.js';
import type { HostStore } from '../store/host-store.js';
import { BUILT_IN_POLICY } from '../store/policy-store.js';
import type { VmDetail } from '../store/vm-store.js';
import type { CopySpec } from './clone-steps.js';
import type { OpsDeps } from './ops-service.js';
import { preflight } from './preflight.js';
import { refuse, VmRule } from './rules.js';
import { readVmFacts, totalDiskBytes } from './vm-facts.js';

export type CloneMode = 'keep' | 'encrypt' | 'decrypt' | 'recryptShallow' | 'recryptDeep';

export interface CloneRequest {
  readonly name: string;
  readonly hostId?: string;
  readonly datastoreId?: string;
  readonly policyId?: string;
  readonly recrypt?: 'shallow' | 'deep';
}

/** What the crypto operations get, with the hosts (a copy may go to another one) and without events. */
export interface CopyDeps extends Omit<OpsDeps, 'events'> {
  readonly hosts: HostStore;
}


interface NewVm {
  readonly id: string;
  readonly name: string;
  readonly hostId: string;
  readonly datastoreId: string;
  readonly policyId: string;
  readonly folderId?: string;
}

/** The Cryptographer.* privileges a clone needs on the source, as vSphere asks them. */
const CLONE_PRIVILEGES: Readonly<Record<CloneMode, readonly Privilege[]>> = {
  keep: [Privilege.CRYPTO_CLONE],
  encrypt: [Privilege.CRYPTO_ENCRYPT],
  decrypt: [Privilege.CRYPTO_CLONE, Privilege.CRYPTO_DECRYPT],
  recryptShallow: [Privilege.CRYPTO_CLONE, Privilege.CRYPTO_RECRYPT],
  recryptDeep: [Privilege.CRYPTO_CLONE, Privilege.CRYPTO_RECRYPT],
};

/**
 * Copies of VMs: clone (keep / encrypt / decrypt / recrypt shallow|deep, to another host or
 * datastore through a shared datastore), instant clone, backup export and restore. Each new
 * VM is recorded first (a provisional row + an operation), like create.
 */
export class CopyOps {
  readonly #d: CopyDeps;

  constructor(d: CopyDeps) {
    this.#d = d;
  }

  #dest(src: VmDetail, hostId: string | undefined, datastoreId: string | undefined): { hostId: string; ds: DatastoreRecord; mountOnSource: string } {
    const host = this.#d.hosts.require(hostId ?? src.hostId);
    const ds = this.#d.datastores.require(datastoreId ?? src.datastoreId);
    if (this.#d.datastores.mountName(ds.id, host.id) === undefined) throw new ManagerError('MANAGER_CONFLICT', `datastore ${ds.name} is not mounted on host ${host.name}`);
    const mountOnSource = this.#d.datastores.mountName(ds.id, src.hostId);
    if (mountOnSource === undefined) {
      throw new ManagerError('MANAGER_CONFLICT', `datastore ${ds.name} is not mounted on the source's host: a copy to another host goes through a datastore both hosts share`);
    }
    return { hostId: host.id, ds, mountOnSource };
  }

  #start(kind: string, src: VmDetail | undefined, dest: NewVm, spec: CopySpec, who: Principal, after?: (vmId: string) => void): TaskInfo {
    if (this.#d.vms.list().some((v) => v.datastoreId === dest.datastoreId && v.name === dest.name)) {
      throw new ManagerError('MANAGER_CONFLICT', `a VM named ${dest.name} already exists on that datastore`);
    }
    const op = this.#d.vms.insertWithOperation(
      { ...dest, provisioned: false },
      (vmId) => this.#d.ops.insert({ vmId, kind, user: who.user, spec: spec as unknown as Record<string, unknown> }),
    );
    const lockId = src?.id ?? dest.id;
    return this.#d.tasks.start({ kind: `vm.${kind}`, entity: vmRef(src?.id ?? dest.id), user: who.user }, (progress) =>
      this.#d.locks.run(lockId, () => spec.sourceHostId, async () => {
        const done = await this.#d.reconciler.runReporting(op.id, kind, progress);
        after?.(done.vmId);
        return done;
      }));
  }

  async clone(sourceId: string, req: CloneRequest, who: Principal): Promise<TaskInfo> {
    const src = this.#d.vms.require(sourceId);
    const f = await readVmFacts(this.#d.gateway, src.hostId, src.id);
    const targetPolicy = req.policyId === undefined ? undefined : this.#d.policies.require(req.policyId);
    const mode: CloneMode = req.recrypt !== undefined ? (req.recrypt === 'deep' ? 'recryptDeep' : 'recryptShallow')
      : targetPolicy === undefined ? 'keep'
        : targetPolicy.encryption && !f.encrypted ? 'encrypt'
          : !targetPolicy.encryption && f.encrypted ? 'decrypt' : 'keep';
    if (f.encrypted || mode !== 'keep') for (const p of CLONE_PRIVILEGES[mode]) this.#d.access.check(who, p, vmRef(src.id));
    if (mode === 'recryptShallow' || mode === 'recryptDeep' || mode === 'decrypt') {
      if (targetPolicy !== undefined && targetPolicy.encryption === (mode === 'decrypt')) throw new ManagerError('MANAGER_BAD_REQUEST', `body.policyId: policy ${targetPolicy.name} does not fit clone mode ${mode}`);
    }
    preflight('clone', { name: src.name, facts: f, settings: this.#d.settings.get(src.id), instantChildren: this.#d.settings.instantChildren(src.id), cloneMode: mode });
    const d = this.#dest(src, req.hostId, req.datastoreId);
    await this.#d.space.require({ vmId: src.id, vmName: src.name, hostId: src.hostId, mountName: d.mountOnSource, datastoreName: d.ds.name, neededBytes: totalDiskBytes(f), user: who.user }, 'clone');
    const encrypted = mode === 'keep' ? f.encrypted : mode !== 'decrypt';
    const policyId = targetPolicy?.id ?? (encrypted ? (f.encrypted ? src.policyId : BUILT_IN_POLICY.VM_ENCRYPTION) : BUILT_IN_POLICY.DATASTORE_DEFAULT);
    const spec: CopySpec = { sourceVmId: src.id, sourceHostId: src.hostId, mode, mountOnSource: d.mountOnSource, vmxPath: vmxPathIn(d.ds, req.name) };
    return this.#start('clone', src, { id: newId('vm'), name: req.name, hostId: d.hostId, datastoreId: d.ds.id, policyId, ...(src.folderId === undefined ? {} : { folderId: src.folderId }) }, spec, who);
  }

  /** The child runs on the parent's disks with the parent's keys; from then on neither may change keys or policy. */
  async instantClone(sourceId: string, req: { name: string }, who: Principal): Promise<TaskInfo> {
    const src = this.#d.vms.require(sourceId);
    const f = await readVmFacts(this.#d.gateway, src.hostId, src.id);
    if (f.encrypted) this.#d.access.check(who, Privilege.CRYPTO_CLONE, vmRef(src.id));
    preflight('instantClone', { name: src.name, facts: f, settings: this.#d.settings.get(src.id), instantChildren: [] });
    if (this.#d.settings.get(src.id).instantCloneOf !== undefined) throw refuse(VmRule.INSTANT_CLONE, `VM ${src.name} is itself an instant clone; clone its parent`);
    const ds = this.#d.datastores.require(src.datastoreId);
    const spec: CopySpec = { sourceVmId: src.id, sourceHostId: src.hostId, mode: 'instant', mountOnSource: this.#d.datastores.mountName(ds.id, src.hostId) ?? '', vmxPath: vmxPathIn(ds, req.name) };
    return this.#start('instantClone', src, { id: newId('vm'), name: req.name, hostId: src.hostId, datastoreId: ds.id, policyId: src.policyId, ...(src.folderId === undefined ? {} : { folderId: src.folderId }) }, spec, who,
      (childId) => this.#d.settings.set(childId, { instantCloneOf: src.id }));
  }

  /**
   * Backup export: a clear copy of the VM's disks and configuration written by its host (what a
   * backup product reading through the host gets). Of an encrypted VM it also needs
   * Cryptographer.Decrypt: the copy is the VM's data outside its encryption, exactly what a
   * decrypt produces, and vSphere's "No Cryptography Administrator" must not be able to take it.
   */
  async exportVm(vmId: string, req: { format: 'backup' | 'ovf'; name: string; datastoreId?: string }, who: Principal): Promise<TaskInfo> {
    const vm = this.#d.vms.require(vmId);
    const f = await readVmFacts(this.#d.gateway, vm.hostId, vm.id);
    if (req.format === 'ovf' && f.encrypted) throw refuse(VmRule.OVF_EXPORT, `VM ${vm.name} is encrypted: OVF export is not supported (use the backup export, which writes a clear copy)`);
    if (f.encrypted) this.#d.access.check(who, Privilege.CRYPTO_DECRYPT, vmRef(vm.id));
    preflight('export', { name: vm.name, facts: f, settings: this.#d.settings.get(vm.id), instantChildren: [] });
    const ds = this.#d.datastores.require(req.datastoreId ?? vm.datastoreId);
    const mount = this.#d.datastores.mountName(ds.id, vm.hostId);
    if (mount === undefined) throw new ManagerError('MANAGER_CONFLICT', `datastore ${ds.name} is not mounted on the VM's host`);
    await this.#d.space.require({ vmId: vm.id, vmName: vm.name, hostId: vm.hostId, mountName: mount, datastoreName: ds.name, neededBytes: totalDiskBytes(f), user: who.user }, 'export');
    return this.#d.tasks.start({ kind: 'vm.export', entity: vmRef(vm.id), user: who.user }, () =>
      this.#d.locks.run(vm.id, () => vm.hostId, async () => {
        const r = await this.#d.gateway.call<Record<string, unknown>>(vm.hostId, 'POST', `/v1/vms/${vm.id}/export`, { name: req.name, datastore: mount });
        const path = typeof r['path'] === 'string' ? r['path'] : typeof r['dir'] === 'string' ? r['dir'] : `${datastoreDir(ds)}/${req.name}`;
        return { path: path.slice(0, 4096), encrypted: false };
      }));
  }

  /** Restore follows the target policy: encryption policy → encrypted under a new KEK; Datastore Default → clear, with a warning event. */
  async restore(req: { from: string; name: string; hostId: string; datastoreId: string; policyId?: string; folderId?: string }, who: Principal): Promise<TaskInfo> {
    const policy = this.#d.policies.require(req.policyId ?? BUILT_IN_POLICY.DATASTORE_DEFAULT);
    if (policy.encryption) this.#d.access.check(who, Privilege.CRYPTO_ENCRYPT_NEW, req.folderId === undefined ? { kind: EntityKind.ROOT, id: 'root' } : { kind: EntityKind.FOLDER, id: req.folderId });
    const host = this.#d.hosts.require(req.hostId);
    const ds = this.#d.datastores.require(req.datastoreId);
    const mount = this.#d.datastores.mountName(ds.id, host.id);
    if (mount === undefined) throw new ManagerError('MANAGER_CONFLICT', `datastore ${ds.name} is not mounted on host ${host.name}`);
    const spec: CopySpec = { sourceHostId: host.id, mode: 'restore', mountOnSource: mount, vmxPath: vmxPathIn(ds, req.name), from: req.from };
    return this.#start('restore', undefined, { id: newId('vm'), name: req.name, hostId: host.id, datastoreId: ds.id, policyId: policy.id, ...(req.folderId === undefined ? {} : { folderId: req.folderId }) }, spec, who);
  }
}
