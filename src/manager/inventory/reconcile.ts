import { vmRef, type EventPoster, type HostGateway, type KeyService, type TaskProgress } from '../contracts.js';
import { ManagerError } from '../errors.js';
import { isHostRefusal } from './hosts/host-gateway.js';
import { parseHostVm, parseHostVms, type HostVm } from './hosts/host-replies.js';
import { vmxPathIn, type DatastoreStore } from './store/datastore-store.js';
import type { OperationStore, VmOperation } from './store/operation-store.js';
import type { PolicyStore, StoragePolicy } from './store/policy-store.js';
import type { VmStore } from './store/vm-store.js';

/**
 * The ONE path that moves a VM from its desired state (storage policy) to observed state.
 * An operation is a row (intent + last completed step + chosen KEK); each step is idempotent,
 * so `run(opId)` after any failure or crash continues where it stopped and reuses the KEK it
 * already recorded instead of creating another. Issue 11 adds encrypt/decrypt/rekey as more
 * step lists on the same runner.
 */
export interface ReconcileDeps {
  readonly vms: VmStore;
  readonly ops: OperationStore;
  readonly policies: PolicyStore;
  readonly datastores: DatastoreStore;
  readonly hosts: HostGateway;
  readonly keys: () => KeyService;
  readonly events: EventPoster;
}

export interface StepContext {
  readonly deps: ReconcileDeps;
  /** Re-read before each step: a step may change it (a created VM takes its host's uuid). */
  op(): VmOperation;
  policy(): StoragePolicy;
}

export interface ReconcileStep {
  readonly name: string;
  /** Only when this returns true (default: always; steps are idempotent, rerunning is safe). */
  readonly when?: (ctx: StepContext) => boolean;
  run(ctx: StepContext): Promise<void>;
  /** Called when `run` threw (e.g. to report a chain left under two keys), before the failure is recorded. */
  readonly onFailure?: (ctx: StepContext, err: unknown) => Promise<void>;
}

/** Reports each step as it starts (a task's progress). */
export type StepListener = (step: string, index: number, total: number) => void;

export type StepList = readonly ReconcileStep[];

export interface CreateVmSpec {
  readonly name: string;
  readonly memoryMiB: number;
  readonly disks: ReadonlyArray<{ readonly sizeBytes: number }>;
}

/**
 * A new KEK for the operation, of the provider the operation names or else the policy's,
 * recorded before anything uses it; a rerun reuses it.
 */
export const newKek: ReconcileStep = {
  name: 'kek',
  when: (c) => c.op().key === undefined,
  async run(c) {
    const op = c.op();
    const fromSpec = typeof op.spec['providerId'] === 'string' ? op.spec['providerId'] : undefined;
    const providerId = fromSpec ?? c.policy().providerId;
    const key = await c.deps.keys().createKek({ entity: vmRef(op.vmId), ...(providerId === undefined ? {} : { providerId }), ...(op.user === undefined ? {} : { user: op.user }) });
    c.deps.ops.setKey(op.id, key);
  },
};

/** Step 1 (create): a KEK when the policy encrypts. */
export const chooseKek: ReconcileStep = { ...newKek, when: (c) => c.policy().encryption && c.op().key === undefined };

/** Step 2 (encryption): the KEK into the key caches of the hosts the push rules name. Rerun every time: a host may have restarted since. */
export const pushKek: ReconcileStep = {
  name: 'push',
  when: (c) => c.op().key !== undefined,
  async run(c) {
    const op = c.op();
    if (op.key !== undefined) await c.deps.keys().pushForVm(op.vmId, [op.key]);
  },
};

/** The VM at `vmxPath` on the host, if any: what the host already made for an intent before a crash. */
export async function hostVmAt(c: StepContext, hostId: string, vmxPath: string): Promise<HostVm | undefined> {
  const listed = parseHostVms(await c.deps.hosts.call(hostId, 'GET', '/v1/vms'));
  return listed.find((v) => v.vmx === vmxPath);
}

/** Step 3: the VM's files on its host (encrypted under the recorded KEK when the policy says so). */
export const createOnHost: ReconcileStep = {
  name: 'create',
  when: (c) => c.deps.vms.vm(c.op().vmId)?.provisioned === false,
  async run(c) {
    const op = c.op();
    const vm = c.deps.vms.require(op.vmId);
    const spec = op.spec as unknown as CreateVmSpec;
    const ds = c.deps.datastores.require(vm.datastoreId);
    const mount = c.deps.datastores.mountName(ds.id, vm.hostId);
    if (mount === undefined) throw new ManagerError('MANAGER_CONFLICT', `datastore ${ds.name} is not mounted on the VM's host`);
    const policy = c.policy();
    const vmxPath = vmxPathIn(ds, vm.name);
    let made: HostVm | undefined;
    try {
      made = parseHostVm(await c.deps.hosts.call(vm.hostId, 'POST', '/v1/vms', {
        name: vm.name, datastore: mount, memoryMiB: spec.memoryMiB, disks: spec.disks, storagePolicy: policy.name,
        ...(policy.encryption && op.key !== undefined ? { encryption: { providerId: op.key.providerId, keyId: op.key.keyId } } : {}),
      }));
    } catch (err) {
      if (!(isHostRefusal(err) && err.code === 'HOST_CONFLICT')) throw err;
      made = await hostVmAt(c, vm.hostId, vmxPath);
      if (made === undefined) throw err;
      const wantKey = op.key?.keyId;
      const gotKey = made.observation.keys[0]?.key.keyId;
      if (made.observation.encrypted !== policy.encryption || (wantKey !== undefined && gotKey !== undefined && wantKey !== gotKey)) {
        throw new ManagerError('MANAGER_CONFLICT', `${vmxPath} already exists on the host and is not the VM this operation made`);
      }
    }
    c.deps.vms.rename(vm.id, made.uuid);
    c.deps.vms.recordObserved(made.uuid, made.observation);
  },
};

/** The step lists per operation kind; issue 11 registers encrypt, decrypt and rekey here. */
export const STEPS: Record<string, StepList> = {
  create: [chooseKek, pushKek, createOnHost],
};

export class Reconciler {
  readonly #deps: ReconcileDeps;
  readonly #steps: Record<string, StepList>;
  /** One run per operation at a time (a rerun while it runs joins it). */
  readonly #running = new Map<string, Promise<VmOperation>>();

  constructor(deps: ReconcileDeps, steps: Record<string, StepList> = STEPS) {
    this.#deps = deps;
    this.#steps = steps;
  }

  /** Runs the operation as a task's body: its steps move the task from 5 % to 95 %, the end to 100 %. */
  async runReporting(opId: string, label: string, progress: TaskProgress): Promise<{ vmId: string; operationId: string }> {
    const done = await this.run(opId, (step, i, n) => progress.update({ percent: Math.min(95, 5 + Math.round((90 * i) / n)), message: `${label}: ${step}` }));
    progress.update({ percent: 100, message: `${label}: done` });
    return { vmId: done.vmId, operationId: done.id };
  }

  isRunning(opId: string): boolean {
    return this.#running.has(opId);
  }

  run(opId: string, onStep?: StepListener): Promise<VmOperation> {
    const cur = this.#running.get(opId);
    if (cur !== undefined) return cur;
    const p = this.#run(opId, onStep).finally(() => this.#running.delete(opId));
    this.#running.set(opId, p);
    return p;
  }

  async #run(opId: string, onStep?: StepListener): Promise<VmOperation> {
    const { ops, vms, policies } = this.#deps;
    const start = ops.get(opId);
    if (start === undefined) throw new ManagerError('MANAGER_NOT_FOUND', `operation ${opId} not found`);
    if (start.state === 'done') return start;
    const steps = this.#steps[start.kind];
    if (steps === undefined) throw new ManagerError('MANAGER_INTERNAL', `no reconcile steps for operation kind ${start.kind}`);
    ops.setState(opId, 'inProgress');
    const ctx: StepContext = {
      deps: this.#deps,
      op: () => ops.get(opId) as VmOperation,
      policy: () => policies.require(vms.require((ops.get(opId) as VmOperation).vmId).policyId),
    };
    try {
      for (const [i, step] of steps.entries()) {
        if (step.when !== undefined && !step.when(ctx)) continue;
        onStep?.(step.name, i, steps.length);
        try {
          await step.run(ctx);
        } catch (err) {
          await step.onFailure?.(ctx, err).catch(() => undefined);
          throw err;
        }
        ops.stepDone(opId, step.name);
      }
    } catch (err) {
      const code = typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'MANAGER_INTERNAL';
      const message = err instanceof Error ? err.message : String(err);
      ops.setState(opId, 'failed', { code, message });
      throw err;
    }
    ops.setState(opId, 'done');
    const op = ctx.op();
    // the other kinds end with their own step posting vSphere's event (vm.encrypted, vm.rekeyed, …)
    if (op.kind !== 'create') return op;
    const vm = vms.require(op.vmId);
    this.#deps.events.post({
      type: 'vm.created', severity: 'info', entity: vmRef(vm.id),
      message: `VM ${vm.name}: created${vm.encrypted ? ` (encrypted with key ${vm.keys[0]?.key.keyId ?? '?'} of key provider ${vm.keys[0]?.key.providerId ?? '?'})` : ''}`,
      ...(op.user === undefined ? {} : { user: op.user }),
    });
    return op;
  }
}
