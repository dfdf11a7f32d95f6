import { conflict, type ManagerError } from '../../errors.js';

/**
 * Every rule a VM encryption operation is checked against before anything is touched, named as
 * the refusal names it (`… (rule: vm-powered-off)`), each from the seeds (vSphere 6.5–7 VM
 * Encryption). docs/manager.md lists them all; a test keeps the two in sync.
 */
export const VmRule = {
  POWERED_OFF: 'vm-powered-off',
  NO_SNAPSHOTS: 'vm-no-snapshots',
  SINGLE_BRANCH: 'snapshots-single-branch',
  ENCRYPTED: 'vm-encrypted',
  NOT_ENCRYPTED: 'vm-not-encrypted',
  UNLOCKED: 'vm-unlocked',
  HOME_ENCRYPTED_FIRST: 'disk-needs-encrypted-home',
  DISK_SPACE: 'datastore-twice-the-space',
  INSTANT_CLONE: 'instant-clone-frozen-keys',
  CIRCULAR_DEPENDENCY: 'circular-dependency',
  SUSPEND: 'encrypted-no-suspend',
  MEMORY_SNAPSHOT: 'encrypted-no-memory-snapshot',
  FAULT_TOLERANCE: 'encrypted-no-fault-tolerance',
  REPLICATION: 'encrypted-no-replication',
  CONTENT_LIBRARY: 'encrypted-no-content-library',
  SERIAL_PARALLEL: 'encrypted-no-serial-parallel-ports',
  OVF_EXPORT: 'encrypted-no-ovf-export',
  FINISH_FAILED_FIRST: 'finish-failed-operation-first',
  SAME_STATE: 'policy-already-applied',
  PROVISIONED: 'vm-provisioned',
  MIGRATING: 'vm-migrating',
  MIGRATE_ENCRYPTION: 'migrate-encryption-required',
  MIGRATE_SHARED_DATASTORE: 'migrate-shared-datastore',
  MIGRATE_KEY_PROVIDER: 'migrate-key-provider-known',
} as const;
export type VmRule = (typeof VmRule)[keyof typeof VmRule];

/** What each rule says, for the docs and for the refusal's wording. */
export const VM_RULE_TEXT: Readonly<Record<VmRule, string>> = {
  'vm-powered-off': 'encrypt, decrypt, deep rekey, per-disk changes, snapshot revert/remove and restore need the VM powered off',
  'vm-no-snapshots': 'encrypt, decrypt, deep rekey and per-disk changes need a VM without snapshots',
  'snapshots-single-branch': 'a shallow rekey with snapshots needs them to form a single branch',
  'vm-encrypted': 'rekey and decrypt need an encrypted VM',
  'vm-not-encrypted': 'encrypt needs a VM that is not encrypted',
  'vm-unlocked': 'an encrypted VM must be unlocked (its KEK in its host\'s key cache) to be changed',
  'disk-needs-encrypted-home': 'a disk can be encrypted only when the VM home is encrypted',
  'datastore-twice-the-space': 'encrypt, decrypt, deep rekey and clone need free space on the datastore for the temporary copy; without it encrypt, decrypt and deep rekey run in place (refused only when not even in place fits)',
  'instant-clone-frozen-keys': 'the parent and the child of an instant clone cannot be rekeyed, decrypted or change policy',
  'circular-dependency': 'a VM that hosts the key server or the manager is not encrypted unless forced',
  'encrypted-no-suspend': 'suspend/resume is not supported on encrypted VMs',
  'encrypted-no-memory-snapshot': 'memory snapshots are not supported on encrypted VMs',
  'encrypted-no-fault-tolerance': 'fault tolerance does not work with encrypted VMs',
  'encrypted-no-replication': 'replication does not work with encrypted VMs',
  'encrypted-no-content-library': 'encrypted VMs cannot be added to a content library',
  'encrypted-no-serial-parallel-ports': 'serial and parallel ports are not supported on encrypted VMs',
  'encrypted-no-ovf-export': 'OVF export does not work for encrypted VMs (use the backup export)',
  'finish-failed-operation-first': 'a VM with a failed operation must finish it (rerun) before another starts',
  'policy-already-applied': 'the VM already has this policy and matches it',
  'vm-provisioned': 'the VM must exist on its host (its create finished)',
  'vm-migrating': 'while a VM migrates no decrypt, recrypt, rekey, policy or setting change, and no second migration, is accepted',
  'migrate-encryption-required': 'an encrypted VM, or one whose migrateEncryption is required, migrates only between hosts that both encrypt migrations',
  'migrate-shared-datastore': 'a migration to another host needs the VM\'s datastore mounted on both hosts',
  'migrate-key-provider-known': 'across managers, the destination manager must know the key provider of every key of the VM',
};

export function refuse(rule: VmRule, detail: string): ManagerError {
  return conflict(rule, detail);
}
