// @ts-check
import { badge } from './dom.js';

/** @typedef {{ providerId: string, keyId: string }} KeyRef */
/** @typedef {{ id: string, name: string, hostId: string, datastoreId: string, vmxPath?: string, desired: { policyId: string, policyName: string, encryption: boolean, providerId?: string }, observed: { provisioned: boolean, encrypted: boolean, keys: Array<{ part: string, key: KeyRef }>, powerState: string, locked: boolean, lockReason?: string, error?: string }, compliance: { status: string, reason?: string }, operation?: { kind?: string, state?: string, step?: string, error?: { code?: string, message?: string } } }} Vm */

/** @param {Vm} vm */
export function encryptionBadge(vm) {
  if (!vm.observed.provisioned) return badge('not provisioned', 'muted', { 'data-field': 'encryption' });
  return vm.observed.encrypted
    ? badge('encrypted', 'ok', { 'data-field': 'encryption' })
    : badge('not encrypted', 'muted', { 'data-field': 'encryption' });
}

/** @param {Vm} vm */
export function lockBadge(vm) {
  if (vm.observed.locked) return badge(`locked${vm.observed.lockReason === undefined ? '' : ` (${vm.observed.lockReason})`}`, 'bad', { 'data-field': 'lock', 'data-locked': 'true' });
  return badge(vm.observed.encrypted ? 'unlocked' : '—', vm.observed.encrypted ? 'ok' : 'muted', { 'data-field': 'lock', 'data-locked': 'false' });
}

const COMPLIANCE = /** @type {Record<string, [string, string]>} */ ({
  compliant: ['compliant', 'ok'],
  notCompliant: ['not compliant', 'bad'],
  inProgress: ['in progress', 'info'],
});

/** @param {Vm} vm */
export function complianceBadge(vm) {
  const [text, kind] = COMPLIANCE[vm.compliance.status] ?? [vm.compliance.status, 'muted'];
  return badge(text, kind, { 'data-field': 'compliance', title: vm.compliance.reason ?? '' });
}

/** The key provider the VM's keys come from (observed), else the one its policy names. @param {Vm} vm */
export function providerOf(vm) {
  return vm.observed.keys[0]?.key.providerId ?? vm.desired.providerId ?? (vm.desired.encryption ? '(default provider)' : '—');
}

/** @param {string} state */
export function powerText(state) {
  return ({ poweredOn: 'powered on', poweredOff: 'powered off', suspended: 'suspended' })[state] ?? state;
}

/**
 * @typedef {{ providerId?: string, keyId?: string, disks: Array<{ id: string, encrypted?: boolean, layers: Array<{ file: string, format?: string, keyId?: string }> }> }} EncryptionInfo
 */

/**
 * A VM's disks with their layers and the KEK of each. Get-VMEncryptionInfo
 * (GET /api/vms/ID/encryption, read from the host) gives every layer; without it (an older
 * manager, or the host is unreachable) each key part stands for one layer.
 * @param {Vm} vm
 * @param {EncryptionInfo | null} [info]
 * @returns {Array<{ name: string, layers: Array<{ name: string, key?: KeyRef }> }>}
 */
export function disksOf(vm, info) {
  if (info !== null && info !== undefined && Array.isArray(info.disks)) {
    const providerId = info.providerId ?? providerOf(vm);
    return info.disks.slice(0, 64).map((d) => ({
      name: String(d.id),
      layers: (d.layers ?? []).slice(0, 64).map((l) => ({
        name: String(l.file).split('/').pop() ?? String(l.file),
        ...(l.keyId === undefined ? {} : { key: { providerId, keyId: String(l.keyId) } }),
      })),
    }));
  }
  return vm.observed.keys.filter((k) => k.part !== 'vm').map((k) => ({ name: k.part, layers: [{ name: `${k.part} (base)`, key: k.key }] }));
}
