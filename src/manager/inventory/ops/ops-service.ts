import { vmRef, Privilege, type AccessChecker, type EventPoster, type HostGateway, type Principal, type TaskInfo, type TaskProgress, type TaskStarter } from '../../contracts.js';
import { ManagerError } from '../../errors.js';
import type { Reconciler } from '../reconcile.js';
import type { DatastoreStore } from '../store/datastore-store.js';
import type { OperationStore, VmOperation } from '../store/operation-store.js';
import type { PolicyStore, StoragePolicy } from '../store/policy-store.js';
import type { VmDetail, VmStore } from '../store/vm-store.js';
import type { OpLocks } from './op-locks.js';
import { MigratingVms } from './migrate-registry.js';
import { CryptoOpKind, preflight, type PreflightInput } from './preflight.js';
import { refuse, VmRule } from './rules.js';
import { inPlaceNeededBytes, type RewriteMode, type SpaceCheck } from './space-check.js';
import { postInPlace, withInPlaceProgress } from './in-place-mode.js';
import { readVmFacts, totalDiskBytes, type VmFacts } from './vm-facts.js';
import type { VmSettingsStore } from './vm-settings-store.js';

export interface OpsDeps {
  readonly vms: VmStore;
  readonly ops: OperationStore;
  readonly policies: PolicyStore;
  readonly datastores: DatastoreStore;
  readonly settings: VmSettingsStore;
  readonly gateway: HostGateway;
  readonly reconciler: Reconciler;
  readonly locks: OpLocks;
  readonly space: SpaceCheck;
  readonly access: AccessChecker;
  readonly tasks: TaskStarter;
  readonly events: EventPoster;
}

/** The privilege each crypto operation needs on the VM, on top of the route's own (vSphere's Cryptographer.*). */
export const CRYPTO_PRIVILEGE: Readonly<Record<string, Privilege | undefined>> = {
  create: undefined,
  encrypt: Privilege.CRYPTO_ENCRYPT,
  decrypt: Privilege.CRYPTO_DECRYPT,
  rekey: Privilege.CRYPTO_RECRYPT,
  deepRekey: Privilege.CRYPTO_RECRYPT,
  diskEncrypt: Privilege.CRYPTO_ENCRYPT,
  diskDecrypt: Privilege.CRYPTO_DECRYPT,
};

/** Operations that write a full copy of every disk beside the old one. */
const COPYING: ReadonlySet<string> = new Set(['encrypt', 'decrypt', 'deepRekey', 'diskEncrypt', 'diskDecrypt']);

interface Planned {
  readonly kind: CryptoOpKind;
  readonly spec: Record<string, unknown>;
  /** The policy the VM gets with the operation (policy changes only). */
  readonly policyId?: string;
  readonly force?: boolean;
}

/**
 * VM encryption operations: each is checked against the rules before anything is touched
 * (facts read fresh from the host), then recorded as a reconcile operation and run as a task,
 * one at a time per VM and a few at a time per host.
 */
export class VmOpsService {
  readonly #d: OpsDeps;
  /** VMs migrating now (issue 14): their keys and policy cannot change meanwhile. */
  readonly migrating = new MigratingVms();

  constructor(d: OpsDeps) {
    this.#d = d;
    // work that was running when the manager stopped: nothing runs it now; a rerun continues it
    for (const op of d.ops.listOpen()) {
      if (op.state === 'inProgress') d.ops.setState(op.id, 'failed', { code: 'MANAGER_INTERNAL', message: 'the manager restarted during the operation' });
    }
  }

  async facts(vm: VmDetail): Promise<VmFacts> {
    return readVmFacts(this.#d.gateway, vm.hostId, vm.id);
  }

  #input(vm: VmDetail, facts: VmFacts, extra: Partial<PreflightInput> = {}): PreflightInput {
    return { name: vm.name, facts, settings: this.#d.settings.get(vm.id), instantChildren: this.#d.settings.instantChildren(vm.id), ...extra };
  }

  #provisioned(vmId: string): VmDetail {
    const vm = this.#d.vms.require(vmId);
    if (!vm.provisioned) throw refuse(VmRule.PROVISIONED, `VM ${vm.name} has not been created on its host yet`);
    return vm;
  }

  /** A failed operation must be finished first; the same request again is its rerun. */
  #openFailed(vm: VmDetail, kind: string): VmOperation | undefined {
    const open = this.#d.ops.open(vm.id);
    if (open === undefined) return undefined;
    if (open.kind === kind) return open;
    throw refuse(VmRule.FINISH_FAILED_FIRST, `VM ${vm.name} has an unfinished ${open.kind} (${open.state}${open.error === undefined ? '' : `: ${open.error.message}`}); rerun it first`);
  }

  /** The copy mode where the datastore has room for it; in place where it has not, or when asked (`spec.inPlace`). */
  async #checkSpace(vm: VmDetail, facts: VmFacts, plan: Planned, who: Principal): Promise<RewriteMode> {
    const asked = plan.spec['inPlace'] === true;
    if (!COPYING.has(plan.kind)) return 'copy';
    const ds = this.#d.datastores.require(vm.datastoreId);
    const mount = this.#d.datastores.mountName(ds.id, vm.hostId);
    if (mount === undefined) return asked ? 'in-place' : 'copy';
    const diskId = plan.spec['diskId'];
    const needed = typeof diskId === 'string' ? facts.disks.find((d) => d.id === diskId)?.sizeBytes ?? 0 : totalDiskBytes(facts);
    const what = { encrypt: 'encrypt', decrypt: 'decrypt', deepRekey: 'deep rekey', diskEncrypt: 'encrypt a disk of', diskDecrypt: 'decrypt a disk of' }[plan.kind as string] ?? plan.kind;
    const inPlaceBytes = inPlaceNeededBytes(typeof diskId === 'string' ? 1 : facts.disks.length);
    return this.#d.space.choose({ vmId: vm.id, vmName: vm.name, hostId: vm.hostId, mountName: mount, datastoreName: ds.name, neededBytes: needed, inPlaceBytes, asked, user: who.user }, what);
  }

  /** Preflight + the operation as a task; the checks run again inside the VM's lock. */
  async #start(vm: VmDetail, plan: Planned, who: Principal): Promise<TaskInfo> {
    const priv = CRYPTO_PRIVILEGE[plan.kind];
    if (priv !== undefined) this.#d.access.check(who, priv, vmRef(vm.id));
    const again = this.#openFailed(vm, plan.kind);
    if (again !== undefined) return this.rerun(vm.id, who);
    let mode: RewriteMode = 'copy';
    const check = async (): Promise<boolean> => {
      this.migrating.refuseWhileMigrating(vm.id, `a ${plan.kind}`);
      const f = await this.facts(this.#d.vms.require(vm.id));
      const { forcedCircular } = preflight(plan.kind, this.#input(vm, f, plan.force === undefined ? {} : { force: plan.force }));
      mode = await this.#checkSpace(vm, f, plan, who);
      return forcedCircular;
    };
    await check();
    return this.#d.tasks.start({ kind: `vm.${plan.kind}`, entity: vmRef(vm.id), user: who.user }, (progress) =>
      this.#d.locks.run(vm.id, () => this.#d.vms.require(vm.id).hostId, async () => {
        progress.update({ percent: 2, message: 'checking the rules' });
        const forced = await check();
        const op = this.#d.vms.atomically(() => {
          if (plan.policyId !== undefined) this.#d.vms.setPolicy(vm.id, plan.policyId);
          return this.#d.ops.insert({ vmId: vm.id, kind: plan.kind, user: who.user, spec: mode === 'in-place' ? { ...plan.spec, inPlace: true } : plan.spec });
        });
        if (mode === 'in-place') postInPlace(this.#d.events, { vmId: vm.id, vmName: vm.name, what: plan.kind, asked: plan.spec['inPlace'] === true, user: who.user });
        if (forced) {
          this.#d.events.post({
            type: 'vm.crypto.circularDependency', severity: 'warning', entity: vmRef(vm.id), user: who.user,
            message: `VM ${vm.name} hosts the key server or the manager and is being encrypted because ${who.user} forced it: after a restart it cannot be unlocked until its keys reach its host some other way`,
          });
        }
        return this.#runOp(op, progress);
      }));
  }

  async #runOp(op: VmOperation, progress: TaskProgress): Promise<{ vmId: string; operationId: string; mode?: 'in-place' }> {
    if (op.spec['inPlace'] !== true) return this.#d.reconciler.runReporting(op.id, op.kind, progress);
    // in place: the task says so, and shows the host's position in the disks
    progress.update({ message: `${op.kind}: in place (no room for a copy, or asked): the original is not kept` });
    const done = await withInPlaceProgress(this.#d.gateway, () => this.#d.vms.require(op.vmId).hostId, op.vmId, progress, () => this.#d.reconciler.runReporting(op.id, op.kind, progress));
    return { ...done, mode: 'in-place' };
  }

  /** Reruns the VM's unfinished operation from the step where it stopped (same privileges as starting it). */
  rerun(vmId: string, who: Principal): TaskInfo {
    const vm = this.#d.vms.require(vmId);
    const op = this.#d.ops.open(vmId);
    if (op === undefined) throw new ManagerError('MANAGER_CONFLICT', `VM ${vm.name} has no unfinished operation`);
    const priv = CRYPTO_PRIVILEGE[op.kind];
    if (priv !== undefined) this.#d.access.check(who, priv, vmRef(vm.id));
    if (this.#d.reconciler.isRunning(op.id)) throw new ManagerError('MANAGER_CONFLICT', `the ${op.kind} of VM ${vm.name} is running`);
    return this.#d.tasks.start({ kind: `vm.${op.kind}`, entity: vmRef(vm.id), user: who.user }, (progress) =>
      this.#d.locks.run(vm.id, () => this.#d.vms.require(vm.id).hostId, () => this.#runOp(op, progress)));
  }

  /**
   * Gives the VM a storage policy (Enable-/Disable-VMEncryption): an encryption policy on a
   * plain VM encrypts it, Datastore Default on an encrypted one decrypts it, another encryption
   * policy with another key provider moves it to a KEK of that provider (a shallow rekey).
   * Returns undefined when only the record changes (nothing to rewrite).
   */
  async changePolicy(vmId: string, policyId: string, who: Principal, opts: { force?: boolean; inPlace?: boolean } = {}): Promise<TaskInfo | undefined> {
    const vm = this.#provisioned(vmId);
    const target: StoragePolicy = this.#d.policies.require(policyId);
    this.#notFrozen(vm, 'a storage policy change');
    this.migrating.refuseWhileMigrating(vm.id, 'a storage policy change');
    const f = await this.facts(vm);
    const force = opts.force === undefined ? {} : { force: opts.force };
    const ip = opts.inPlace === true ? { inPlace: true } : {};
    if (target.encryption && !f.encrypted) return this.#start(vm, { kind: 'encrypt', spec: { policyId, ...ip }, policyId, ...force }, who);
    if (!target.encryption && f.encrypted) return this.#start(vm, { kind: 'decrypt', spec: { policyId, ...ip }, policyId }, who);
    if (target.encryption && target.providerId !== undefined && f.providerId !== target.providerId) {
      return this.#start(vm, { kind: 'rekey', spec: { policyId, providerId: target.providerId }, policyId }, who);
    }
    if (vm.policyId !== policyId) {
      this.#d.vms.setPolicy(vm.id, policyId);
      this.#d.events.post({ type: 'vm.policyChanged', severity: 'info', entity: vmRef(vm.id), user: who.user, message: `VM ${vm.name} now has storage policy ${target.name} (nothing to rewrite)` });
    }
    return undefined;
  }

  /** Runs `fn` as an operation on the VM: after the ones before it, before the ones after it (a migration). */
  exclusive<T>(vmId: string, hostId: () => string, fn: () => Promise<T>): Promise<T> {
    return this.#d.locks.run(vmId, hostId, fn);
  }

  /** An operation holds or waits for the VM. */
  busy(vmId: string): boolean {
    return this.#d.locks.busy(vmId);
  }

  /** Instant clone parents and children keep their keys and policy (vSphere 7). */
  #notFrozen(vm: VmDetail, what: string): void {
    const input = { name: vm.name, settings: this.#d.settings.get(vm.id), instantChildren: this.#d.settings.instantChildren(vm.id) };
    if (input.settings.instantCloneOf !== undefined) {
      throw refuse(VmRule.INSTANT_CLONE, `VM ${vm.name} is an instant clone of ${input.settings.instantCloneOf}: ${what} is not allowed on it (it shares its parent's keys)`);
    }
    if (input.instantChildren.length > 0) {
      throw refuse(VmRule.INSTANT_CLONE, `VM ${vm.name} is the parent of instant clone(s) ${input.instantChildren.join(', ')}: ${what} is not allowed while they exist`);
    }
  }

  /** Set-VMEncryptionKey [-Deep] [-KMSClusterId]: a new KEK (shallow) or new DEKs too (deep). */
  async rekey(vmId: string, who: Principal, opts: { deep?: boolean; providerId?: string; inPlace?: boolean } = {}): Promise<TaskInfo> {
    const vm = this.#provisioned(vmId);
    const kind = opts.deep === true ? 'deepRekey' : 'rekey';
    if (opts.inPlace === true && kind === 'rekey') throw new ManagerError('MANAGER_BAD_REQUEST', 'inPlace applies to a deep rekey: a shallow rekey rewrites no data');
    const ip = opts.inPlace === true ? { inPlace: true } : {};
    return this.#start(vm, { kind, spec: { ...(opts.providerId === undefined ? {} : { providerId: opts.providerId }), ...ip } }, who);
  }

  /** Enable-/Disable-VMDiskEncryption: one disk by its own policy. */
  async diskPolicy(vmId: string, diskId: string, policyId: string, who: Principal, opts: { inPlace?: boolean } = {}): Promise<TaskInfo | undefined> {
    const vm = this.#provisioned(vmId);
    const target = this.#d.policies.require(policyId);
    const f = await this.facts(vm);
    const disk = f.disks.find((d) => d.id === diskId);
    if (disk === undefined) throw new ManagerError('MANAGER_NOT_FOUND', `VM ${vm.name} has no disk ${diskId}`);
    const isEnc = disk.encrypted ?? (f.encrypted && disk.layers.some((l) => l.format !== 'raw'));
    if (isEnc === target.encryption) return undefined;
    return this.#start(vm, { kind: target.encryption ? 'diskEncrypt' : 'diskDecrypt', spec: { diskId, policyId, ...(opts.inPlace === true ? { inPlace: true } : {}) } }, who);
  }
}
