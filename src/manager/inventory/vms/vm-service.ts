import { EntityKind, vmRef, Privilege, type AccessChecker, type EventPoster, type HostGateway, type KeyService, type Principal, type TaskInfo, type TaskStarter } from '../../contracts.js';
import { ManagerError } from '../../errors.js';
import { complianceOf, type ComplianceResult } from '../compliance.js';
import { parseHostVm } from '../hosts/host-replies.js';
import type { VmObserver } from '../hosts/vm-observer.js';
import { newId } from '../ids.js';
import type { Reconciler } from '../reconcile.js';
import type { DatastoreStore } from '../store/datastore-store.js';
import type { HostStore } from '../store/host-store.js';
import type { OperationStore, VmOperation } from '../store/operation-store.js';
import type { PolicyStore, StoragePolicy } from '../store/policy-store.js';
import type { VmDetail, VmStore } from '../store/vm-store.js';
import type { TreeStore } from '../store/tree-store.js';

export interface VmView {
  readonly vm: VmDetail;
  readonly policy: StoragePolicy;
  readonly compliance: ComplianceResult;
  readonly operation?: VmOperation;
}

export interface CreateVmRequest {
  readonly name: string;
  readonly hostId: string;
  readonly datastoreId: string;
  readonly folderId?: string;
  readonly policyId?: string;
  readonly memoryMiB?: number;
  readonly disks: ReadonlyArray<{ readonly sizeBytes: number }>;
}

export interface VmServiceDeps {
  readonly vms: VmStore;
  readonly ops: OperationStore;
  readonly hosts: HostStore;
  readonly datastores: DatastoreStore;
  readonly policies: PolicyStore;
  readonly tree: TreeStore;
  readonly gateway: HostGateway;
  readonly observer: VmObserver;
  readonly reconciler: Reconciler;
  readonly access: AccessChecker;
  readonly tasks: TaskStarter;
  readonly events: EventPoster;
  readonly keys: () => KeyService;
}

const folderRef = (id: string | undefined) => (id === undefined ? { kind: EntityKind.ROOT, id: 'root' } : { kind: EntityKind.FOLDER, id });

/** VM operations the API offers; every change of encryption state goes through the Reconciler. */
export class VmService {
  readonly #d: VmServiceDeps;

  constructor(d: VmServiceDeps) {
    this.#d = d;
  }

  view(id: string): VmView {
    const vm = this.#d.vms.require(id);
    const policy = this.#d.policies.require(vm.policyId);
    const operation = this.#d.ops.latest(id);
    const open = operation !== undefined && operation.state !== 'done' ? operation : undefined;
    return { vm, policy, compliance: complianceOf(vm, policy, open), ...(operation === undefined ? {} : { operation }) };
  }

  list(): VmView[] {
    return this.#d.vms.list().map((v) => this.view(v.id));
  }

  /**
   * Records the intent (a provisional VM row + a 'create' operation) and runs the reconcile
   * path as a task. The VM takes its host's uuid when the host has made it: the task's
   * result names the final id.
   */
  create(req: CreateVmRequest, who: Principal): { vm: VmView; task: TaskInfo } {
    const { hosts, datastores, policies, tree } = this.#d;
    const host = hosts.require(req.hostId);
    const ds = datastores.require(req.datastoreId);
    if (datastores.mountName(ds.id, host.id) === undefined) throw new ManagerError('MANAGER_CONFLICT', `datastore ${ds.name} is not mounted on host ${host.name}`);
    if (req.folderId !== undefined && tree.folder(req.folderId) === undefined) throw new ManagerError('MANAGER_NOT_FOUND', `folder ${req.folderId} not found`);
    const policy = policies.require(req.policyId ?? 'datastore-default');
    if (policy.encryption) this.#d.access.check(who, Privilege.CRYPTO_ENCRYPT_NEW, folderRef(req.folderId));
    if (host.connectionState !== 'connected') throw new ManagerError('MANAGER_HOST_UNREACHABLE', `host ${host.name} is ${host.connectionState}`);
    if (this.#d.vms.list().some((v) => v.datastoreId === ds.id && v.name === req.name)) {
      throw new ManagerError('MANAGER_CONFLICT', `a VM named ${req.name} already exists on datastore ${ds.name}`);
    }
    const provisional = newId('vm');
    const op = this.#d.vms.insertWithOperation(
      { id: provisional, name: req.name, hostId: host.id, datastoreId: ds.id, policyId: policy.id, provisioned: false, ...(req.folderId === undefined ? {} : { folderId: req.folderId }) },
      (vmId) => this.#d.ops.insert({ vmId, kind: 'create', user: who.user, spec: { memoryMiB: req.memoryMiB ?? 128, disks: req.disks } }),
    );
    const task = this.#runTask(op, who, 'vm.create');
    return { vm: this.view(provisional), task };
  }

  /** Reruns the VM's unfinished operation from the step where it stopped. */
  rerun(vmId: string, who: Principal): TaskInfo {
    const op = this.#d.ops.open(vmId);
    if (op === undefined) throw new ManagerError('MANAGER_CONFLICT', `VM ${vmId} has no unfinished operation`);
    if (this.#d.reconciler.isRunning(op.id)) {
      throw new ManagerError('MANAGER_CONFLICT', `the ${op.kind} of VM ${vmId} is running`);
    }
    return this.#runTask(op, who, `vm.${op.kind}`);
  }

  #runTask(op: VmOperation, who: Principal, kind: string): TaskInfo {
    return this.#d.tasks.start({ kind, entity: vmRef(op.vmId), user: who.user }, async (progress) => {
      progress.update({ percent: 5, message: `${op.kind}: started` });
      const done = await this.#d.reconciler.run(op.id);
      progress.update({ percent: 100 });
      return { vmId: done.vmId, operationId: done.id };
    });
  }

  /** Adds a VM whose files exist on a datastore the host mounts (e.g. shared storage). */
  async register(req: { hostId: string; vmxPath: string; folderId?: string; policyId?: string }, who: Principal): Promise<VmView> {
    const host = this.#d.hosts.require(req.hostId);
    const hv = parseHostVm(await this.#d.gateway.call(host.id, 'POST', '/v1/vms/register', { vmx: req.vmxPath }));
    try {
      if (hv.observation.encrypted) this.#d.access.check(who, Privilege.CRYPTO_REGISTER_VM, folderRef(req.folderId));
      if (this.#d.vms.vm(hv.uuid) !== undefined) throw new ManagerError('MANAGER_CONFLICT', `VM ${hv.uuid} is already registered (on host ${this.#d.vms.require(hv.uuid).hostId})`);
      const ds = this.#d.datastores.holding(host.id, hv.vmx);
      if (ds === undefined) throw new ManagerError('MANAGER_CONFLICT', `${hv.vmx} is not on a datastore of host ${host.name}`);
      if (req.policyId !== undefined) {
        const p = this.#d.policies.require(req.policyId);
        if (p.encryption !== hv.observation.encrypted) throw new ManagerError('MANAGER_CONFLICT', `policy ${p.name} ${p.encryption ? 'requires' : 'forbids'} encryption; the VM is ${hv.observation.encrypted ? 'encrypted' : 'not encrypted'} (register it, then change its policy)`);
      }
      this.#d.observer.import(host.id, ds.id, hv, { ...(req.folderId === undefined ? {} : { folderId: req.folderId }), ...(req.policyId === undefined ? {} : { policyId: req.policyId }) });
    } catch (err) {
      await this.#d.gateway.call(host.id, 'DELETE', `/v1/vms/${hv.uuid}`).catch(() => undefined);
      throw err;
    }
    // a VM registered on this host for the first time is locked until its keys are here
    const vm = this.#d.vms.require(hv.uuid);
    if (vm.keys.length > 0) {
      await this.#d.keys().pushForVm(vm.id, [...new Map(vm.keys.map((k) => [`${k.key.providerId}/${k.key.keyId}`, k.key])).values()]);
      await this.refresh(vm.id);
    }
    return this.view(vm.id);
  }

  async refresh(vmId: string): Promise<VmDetail> {
    const vm = this.#d.vms.require(vmId);
    const hv = parseHostVm(await this.#d.gateway.call(vm.hostId, 'GET', `/v1/vms/${vm.id}`));
    this.#d.vms.recordObserved(vm.id, hv.observation);
    return this.#d.vms.require(vm.id);
  }

  async power(vmId: string, action: 'on' | 'off' | 'reset', who: Principal): Promise<VmView> {
    const vm = this.#provisioned(vmId);
    const hv = parseHostVm(await this.#d.gateway.call(vm.hostId, 'POST', `/v1/vms/${vm.id}/power`, { action }));
    this.#d.vms.recordObserved(vm.id, hv.observation);
    this.#d.events.post({ type: `vm.power.${action}`, severity: 'info', entity: vmRef(vm.id), user: who.user, message: `VM ${vm.name}: power ${action}` });
    return this.view(vm.id);
  }

  /** Removes the VM from the inventory and unregisters it from its host; its files stay. */
  async remove(vmId: string, who: Principal): Promise<void> {
    const vm = this.#d.vms.require(vmId);
    const open = this.#d.ops.open(vmId);
    if (open !== undefined && this.#d.reconciler.isRunning(open.id)) {
      throw new ManagerError('MANAGER_CONFLICT', `VM ${vm.name} has an operation running`);
    }
    if (vm.provisioned) {
      if (vm.powerState !== 'poweredOff') throw new ManagerError('MANAGER_CONFLICT', `VM ${vm.name} is ${vm.powerState}; power it off first`);
      await this.#d.gateway.call(vm.hostId, 'DELETE', `/v1/vms/${vm.id}`).catch((err: unknown) => {
        if ((err as { code?: string }).code !== 'HOST_NOT_FOUND') throw err;
      });
    }
    this.#d.vms.delete(vm.id);
    this.#d.events.post({ type: 'vm.removed', severity: 'info', entity: vmRef(vm.id), user: who.user, message: `VM ${vm.name} removed from the inventory (its files stay)` });
  }

  #provisioned(vmId: string): VmDetail {
    const vm = this.#d.vms.require(vmId);
    if (!vm.provisioned) throw new ManagerError('MANAGER_CONFLICT', `VM ${vm.name} has not been created on its host yet`);
    return vm;
  }
}
