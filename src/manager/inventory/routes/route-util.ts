import type { FastifyRequest } from 'fastify';
import type { EntityRef, KeyRef, Principal } from '../../contracts.js';
import { EntityKind, ROOT } from '../../contracts.js';
import { ManagerError } from '../../errors.js';
import { isHostRefusal } from '../hosts/host-gateway.js';
import type { ComplianceResult } from '../compliance.js';
import type { VmObservation } from '../store/vm-store.js';
import type { VmView } from '../vms/vm-service.js';
import type { DatastoreRecord } from '../store/datastore-store.js';

/** A host's refusal (HOST_VM_LOCKED, HOST_POWER_STATE, …) shown as the manager's error, keeping the host's code in the text. */
export function asManagerError(err: unknown): unknown {
  if (!isHostRefusal(err)) return err;
  const status = (err as unknown as { status: number }).status;
  const code = status === 404 ? 'MANAGER_NOT_FOUND' : status === 400 ? 'MANAGER_BAD_REQUEST' : status === 403 ? 'MANAGER_FORBIDDEN' : status >= 500 ? 'MANAGER_INTERNAL' : 'MANAGER_CONFLICT';
  return new ManagerError(code, `the host refused: ${err.message} [${err.code}]`);
}

/** Runs a handler, turning host refusals into manager errors. */
export async function hostAware<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asManagerError(err);
  }
}

export function principalOf(req: FastifyRequest): Principal {
  return req.principal;
}

const paramId = (r: { params: unknown }): string => String((r.params as { id?: unknown }).id ?? '');
const bodyField = (r: { body: unknown }, k: string): string | undefined => {
  const v = (r.body as Record<string, unknown> | null | undefined)?.[k];
  return typeof v === 'string' ? v : undefined;
};

export const entityOf = {
  vm: (r: { params: unknown }): EntityRef => ({ kind: EntityKind.VM, id: paramId(r) }),
  host: (r: { params: unknown }): EntityRef => ({ kind: EntityKind.HOST, id: paramId(r) }),
  cluster: (r: { params: unknown }): EntityRef => ({ kind: EntityKind.CLUSTER, id: paramId(r) }),
  folder: (r: { params: unknown }): EntityRef => ({ kind: EntityKind.FOLDER, id: paramId(r) }),
  policy: (r: { params: unknown }): EntityRef => ({ kind: EntityKind.POLICY, id: paramId(r) }),
  /** The folder named in the body (where the new object goes), or the root. */
  bodyFolder: (field: string) => (r: { body: unknown }): EntityRef => {
    const id = bodyField(r, field);
    return id === undefined ? ROOT : { kind: EntityKind.FOLDER, id };
  },
  bodyCluster: (r: { body: unknown }): EntityRef => {
    const id = bodyField(r, 'clusterId');
    return id === undefined ? ROOT : { kind: EntityKind.CLUSTER, id };
  },
};

/** A VM as the API answers it (vmSchema): desired state, observed state and compliance side by side. */
export interface VmJson {
  readonly id: string;
  readonly name: string;
  readonly hostId: string;
  readonly datastoreId: string;
  readonly folderId?: string;
  readonly vmxPath?: string;
  readonly desired: { readonly policyId: string; readonly policyName: string; readonly encryption: boolean; readonly providerId?: string };
  readonly observed: Omit<VmObservation, 'vmxPath'> & { readonly provisioned: boolean; readonly observedAt?: string };
  readonly compliance: ComplianceResult;
  readonly operation?: {
    readonly id: string;
    readonly kind: string;
    readonly state: string;
    readonly step: string;
    readonly key?: KeyRef;
    readonly error?: { readonly code: string; readonly message: string };
  };
}

export function vmJson(v: VmView): VmJson {
  const { vm, policy, compliance, operation } = v;
  return {
    id: vm.id, name: vm.name, hostId: vm.hostId, datastoreId: vm.datastoreId,
    ...(vm.folderId === undefined ? {} : { folderId: vm.folderId }),
    ...(vm.vmxPath === undefined ? {} : { vmxPath: vm.vmxPath }),
    desired: { policyId: policy.id, policyName: policy.name, encryption: policy.encryption, ...(policy.providerId === undefined ? {} : { providerId: policy.providerId }) },
    observed: {
      provisioned: vm.provisioned, encrypted: vm.encrypted, keys: vm.keys, powerState: vm.powerState, locked: vm.locked,
      ...(vm.lockReason === undefined ? {} : { lockReason: vm.lockReason }),
      ...(vm.observedError === undefined ? {} : { error: vm.observedError }),
      ...(vm.observedAt === undefined ? {} : { observedAt: vm.observedAt }),
    },
    compliance,
    ...(operation === undefined ? {} : {
      operation: {
        id: operation.id, kind: operation.kind, state: operation.state, step: operation.step,
        ...(operation.key === undefined ? {} : { key: operation.key }),
        ...(operation.error === undefined ? {} : { error: operation.error }),
      },
    }),
  };
}

export function datastoreJson(d: DatastoreRecord): Record<string, unknown> {
  return { ...d, shared: d.hosts.length > 1 };
}
