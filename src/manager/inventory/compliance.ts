import type { StoragePolicy } from './store/policy-store.js';
import type { VmDetail } from './store/vm-store.js';
import type { VmOperation } from './store/operation-store.js';

/** vSphere's storage policy compliance: does what the VM is match what its policy says it should be? */
export type Compliance = 'compliant' | 'notCompliant' | 'inProgress';

export interface ComplianceResult {
  readonly status: Compliance;
  /** Why it is not compliant (for the operator), absent when compliant. */
  readonly reason?: string;
}

/**
 * Pure: desired (policy) vs observed (VM) state. An open reconcile operation means
 * inProgress; a failed one leaves the VM notCompliant with the operation's error as reason.
 */
export function complianceOf(vm: VmDetail, policy: StoragePolicy, open?: VmOperation): ComplianceResult {
  if (open !== undefined && open.state === 'inProgress') return { status: 'inProgress', reason: `${open.kind} in progress` };
  if (open !== undefined && open.state === 'failed') {
    return { status: 'notCompliant', reason: `${open.kind} failed: ${open.error?.message ?? 'unknown error'} (rerun it to continue)` };
  }
  if (!vm.provisioned) return { status: 'notCompliant', reason: 'the VM has not been created on its host' };
  if (vm.observedError !== undefined) return { status: 'notCompliant', reason: `the host cannot read the VM: ${vm.observedError}` };
  if (policy.encryption && !vm.encrypted) return { status: 'notCompliant', reason: `policy ${policy.name} requires encryption; the VM is not encrypted` };
  if (!policy.encryption && vm.encrypted) return { status: 'notCompliant', reason: `policy ${policy.name} requires no encryption; the VM is encrypted` };
  if (policy.encryption && policy.providerId !== undefined) {
    const other = vm.keys.find((k) => k.key.providerId !== policy.providerId);
    if (other !== undefined) {
      return { status: 'notCompliant', reason: `policy ${policy.name} requires keys of key provider ${policy.providerId}; ${other.part} uses ${other.key.providerId}` };
    }
  }
  return { status: 'compliant' };
}
