// @ts-check
/**
 * The VM page's crypto actions. Each names its REST route, the crypto privilege it needs beyond
 * the route's own (`x-privilege` in the OpenAPI document), and the VM state it needs. An action
 * is shown disabled with the first reason that stops it: the privilege (as vSphere greys out
 * crypto operations for a No Cryptography Administrator), then a route this manager lacks,
 * then the VM's state. The manager checks everything again; this only saves a useless click.
 */

/** @typedef {import('./vm-state.js').Vm} Vm */
/**
 * @typedef {{ id: string, label: string, method: string, route: string, needs: (vm: Vm) => string[],
 *   state: (vm: Vm) => string | null, body?: (vm: Vm, ctx: ActionContext) => unknown, confirm?: string, prompt?: string, form?: boolean }} VmAction
 * @typedef {{ encryptionPolicyId?: string, defaultPolicyId?: string, cloneName?: string }} ActionContext
 */

const poweredOff = (/** @type {Vm} */ vm) => (vm.observed.powerState === 'poweredOff' ? null : 'the VM must be powered off (rule: vm-powered-off)');
const encrypted = (/** @type {Vm} */ vm) => (vm.observed.encrypted ? null : 'the VM is not encrypted (rule: vm-encrypted)');
const unlocked = (/** @type {Vm} */ vm) => (vm.observed.locked ? 'the VM is locked: unlock it first (rule: vm-unlocked)' : null);
const first = (/** @type {Array<string | null>} */ ...reasons) => reasons.find((r) => r !== null) ?? null;

/** @type {VmAction[]} */
export const VM_ACTIONS = [
  {
    id: 'encrypt', label: 'Encrypt', method: 'POST', route: '/api/vms/{id}/policy',
    needs: () => ['Cryptographer.Encrypt'],
    state: (vm) => first(vm.observed.encrypted ? 'the VM is already encrypted (rule: vm-not-encrypted)' : null, poweredOff(vm)),
    body: (_vm, c) => ({ policyId: c.encryptionPolicyId }),
  },
  {
    id: 'decrypt', label: 'Decrypt', method: 'POST', route: '/api/vms/{id}/policy',
    needs: () => ['Cryptographer.Decrypt'],
    state: (vm) => first(encrypted(vm), unlocked(vm), poweredOff(vm)),
    body: (_vm, c) => ({ policyId: c.defaultPolicyId }),
    confirm: 'Decrypting leaves this VM\'s disks and configuration in clear on the datastore. Decrypt?',
  },
  {
    id: 'rekey', label: 'Rekey', method: 'POST', route: '/api/vms/{id}/rekey',
    needs: () => ['Cryptographer.Recrypt'],
    state: (vm) => first(encrypted(vm), unlocked(vm)),
    body: () => ({ deep: false }),
  },
  {
    id: 'deep-rekey', label: 'Deep rekey', method: 'POST', route: '/api/vms/{id}/rekey',
    needs: () => ['Cryptographer.Recrypt'],
    state: (vm) => first(encrypted(vm), unlocked(vm), poweredOff(vm)),
    body: () => ({ deep: true }),
    confirm: 'A deep rekey rewrites every byte of every disk under new DEKs. Continue?',
  },
  {
    id: 'clone', label: 'Clone', method: 'POST', route: '/api/vms/{id}/clone',
    needs: (vm) => (vm.observed.encrypted ? ['Cryptographer.Clone'] : []),
    state: (vm) => (vm.observed.encrypted ? unlocked(vm) : null),
    body: (_vm, c) => ({ name: c.cloneName }),
    prompt: 'Name of the clone',
  },
  {
    // opens the migrate form (js/migrate-form.js), which makes the call
    id: 'migrate', label: 'Migrate…', method: 'POST', route: '/api/vms/{id}/migrate',
    needs: (vm) => (vm.observed.encrypted ? ['Cryptographer.Migrate'] : []),
    state: (vm) => first(vm.observed.provisioned ? null : 'the VM is not created on its host yet (rule: vm-provisioned)', unlocked(vm)),
    form: true,
  },
  {
    id: 'unlock', label: 'Unlock', method: 'POST', route: '/api/vms/{id}/unlock',
    needs: () => [],
    state: (vm) => (vm.observed.locked ? null : 'the VM is not locked'),
  },
];

/**
 * @param {VmAction} action
 * @param {Vm} vm
 * @param {{ privileges: Set<string>, role?: string }} mine my privileges on this VM
 * @param {Map<string, string | null>} routes METHOD /path → x-privilege
 * @returns {{ enabled: boolean, reason: string }}
 */
export function judge(action, vm, mine, routes) {
  const key = `${action.method} ${action.route}`;
  const routePrivilege = routes.get(key);
  const needed = [...(routePrivilege ? [routePrivilege] : []), ...action.needs(vm)];
  const missing = needed.filter((p) => !mine.privileges.has(p));
  if (missing.length > 0) {
    return { enabled: false, reason: `You lack ${missing.join(', ')} on this VM${mine.role === undefined ? '' : ` (your role: ${mine.role})`}` };
  }
  if (!routes.has(key)) return { enabled: false, reason: `This manager has no ${key} route yet` };
  const blocked = action.state(vm);
  if (blocked !== null) return { enabled: false, reason: blocked.charAt(0).toUpperCase() + blocked.slice(1) };
  return { enabled: true, reason: '' };
}
