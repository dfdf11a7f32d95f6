import { isSingleBranch, type VmFacts } from './vm-facts.js';
import { refuse, VmRule } from './rules.js';
import type { VmSettings } from './vm-settings-store.js';

/**
 * The rules of docs/manager.md "VM operations", checked before anything is touched. Pure:
 * the facts are read fresh from the host, the settings from the inventory.
 */
export const CryptoOpKind = {
  ENCRYPT: 'encrypt',
  DECRYPT: 'decrypt',
  REKEY: 'rekey',
  DEEP_REKEY: 'deepRekey',
  DISK_ENCRYPT: 'diskEncrypt',
  DISK_DECRYPT: 'diskDecrypt',
  CLONE: 'clone',
  INSTANT_CLONE: 'instantClone',
  EXPORT: 'export',
} as const;
export type CryptoOpKind = (typeof CryptoOpKind)[keyof typeof CryptoOpKind];

export interface PreflightInput {
  readonly name: string;
  readonly facts: VmFacts;
  readonly settings: VmSettings;
  /** Instant clones of this VM in the inventory. */
  readonly instantChildren: readonly string[];
  /** Encrypt anyway a VM marked as hosting the key server or the manager. */
  readonly force?: boolean;
  /** Clone: what the destination becomes. */
  readonly cloneMode?: 'keep' | 'encrypt' | 'decrypt' | 'recryptShallow' | 'recryptDeep';
}

const poweredOff = (i: PreflightInput, what: string): void => {
  if (i.facts.powerState !== 'poweredOff') throw refuse(VmRule.POWERED_OFF, `${what} needs VM ${i.name} powered off; it is ${i.facts.powerState}`);
};
const noSnapshots = (i: PreflightInput, what: string): void => {
  const layered = i.facts.disks.some((d) => d.layers.length > 1);
  if (i.facts.snapshots.length > 0 || layered) throw refuse(VmRule.NO_SNAPSHOTS, `${what} needs VM ${i.name} without snapshots; it has ${i.facts.snapshots.length} (remove them first)`);
};
const encrypted = (i: PreflightInput, what: string): void => {
  if (!i.facts.encrypted) throw refuse(VmRule.ENCRYPTED, `${what} needs an encrypted VM; ${i.name} is not encrypted`);
  if (i.facts.cryptoState === 'locked') throw refuse(VmRule.UNLOCKED, `VM ${i.name} is locked (${i.facts.lockReason ?? 'its KEK is not on its host'}); unlock it first`);
};
const frozen = (i: PreflightInput, what: string): void => {
  // the host's .vmx says it too (a VM registered elsewhere, a manager that lost its record)
  const parent = i.settings.instantCloneOf ?? i.facts.instantCloneParent;
  if (parent !== undefined) {
    throw refuse(VmRule.INSTANT_CLONE, `VM ${i.name} is an instant clone of ${parent}: ${what} is not allowed on it (it shares its parent's keys)`);
  }
  const children = [...new Set([...i.instantChildren, ...i.facts.instantClones])];
  if (children.length > 0) {
    throw refuse(VmRule.INSTANT_CLONE, `VM ${i.name} is the parent of instant clone(s) ${children.join(', ')}: ${what} is not allowed while they exist`);
  }
};
const noEncryptedFeatures = (i: PreflightInput): void => {
  const s = i.settings;
  if (s.faultTolerance) throw refuse(VmRule.FAULT_TOLERANCE, `VM ${i.name} has fault tolerance turned on; turn it off before encrypting`);
  if (s.replication) throw refuse(VmRule.REPLICATION, `VM ${i.name} is replicated; stop replication before encrypting`);
  if (s.contentLibrary) throw refuse(VmRule.CONTENT_LIBRARY, `VM ${i.name} is in a content library; remove it before encrypting`);
  if (s.serialPorts > 0 || s.parallelPorts > 0) {
    throw refuse(VmRule.SERIAL_PARALLEL, `VM ${i.name} has ${s.serialPorts} serial and ${s.parallelPorts} parallel port(s); remove them before encrypting`);
  }
};
/** The circular-dependency guard; returns true when it was overridden (the caller posts the warning). */
export const circularDependency = (i: PreflightInput): boolean => {
  const what = i.settings.hostsKeyServer ? 'the key server' : i.settings.hostsManager ? 'the manager' : undefined;
  if (what === undefined) return false;
  if (i.force === true) return true;
  throw refuse(VmRule.CIRCULAR_DEPENDENCY, `VM ${i.name} hosts ${what}: encrypted, it could never be unlocked after a restart (its keys come through ${what}); pass force to encrypt it anyway`);
};

export function preflight(kind: CryptoOpKind, i: PreflightInput): { forcedCircular: boolean } {
  let forcedCircular = false;
  switch (kind) {
    case 'encrypt':
      if (i.facts.encrypted) throw refuse(VmRule.NOT_ENCRYPTED, `VM ${i.name} is already encrypted (to change its key, rekey it)`);
      frozen(i, 'a policy change');
      poweredOff(i, 'encrypting');
      noSnapshots(i, 'encrypting');
      noEncryptedFeatures(i);
      forcedCircular = circularDependency(i);
      break;
    case 'decrypt':
      encrypted(i, 'decrypting');
      frozen(i, 'decrypting');
      poweredOff(i, 'decrypting');
      noSnapshots(i, 'decrypting');
      break;
    case 'rekey':
      encrypted(i, 'a shallow rekey');
      frozen(i, 'a rekey');
      if (!isSingleBranch(i.facts.snapshots, i.facts.branches)) {
        throw refuse(VmRule.SINGLE_BRANCH, `a shallow rekey of VM ${i.name} needs its snapshots to form a single branch; the tree has several (remove a branch first)`);
      }
      break;
    case 'deepRekey':
      encrypted(i, 'a deep rekey');
      frozen(i, 'a rekey');
      poweredOff(i, 'a deep rekey');
      noSnapshots(i, 'a deep rekey');
      break;
    case 'diskEncrypt':
      if (!i.facts.encrypted) throw refuse(VmRule.HOME_ENCRYPTED_FIRST, `VM ${i.name}'s home is not encrypted: encrypt the VM (its policy) before one of its disks`);
      encrypted(i, 'encrypting a disk');
      frozen(i, 'a policy change');
      poweredOff(i, 'encrypting a disk');
      noSnapshots(i, 'encrypting a disk');
      break;
    case 'diskDecrypt':
      encrypted(i, 'decrypting a disk');
      frozen(i, 'decrypting');
      poweredOff(i, 'decrypting a disk');
      noSnapshots(i, 'decrypting a disk');
      break;
    case 'clone': {
      const mode = i.cloneMode ?? 'keep';
      if (i.facts.encrypted) encrypted(i, 'cloning');
      if (mode === 'encrypt') {
        if (i.facts.encrypted) throw refuse(VmRule.NOT_ENCRYPTED, `VM ${i.name} is already encrypted: clone it with keep or recrypt`);
        noEncryptedFeatures(i);
        forcedCircular = circularDependency(i);
      }
      if ((mode === 'decrypt' || mode === 'recryptShallow' || mode === 'recryptDeep') && !i.facts.encrypted) {
        throw refuse(VmRule.ENCRYPTED, `clone mode ${mode} needs an encrypted source; ${i.name} is not encrypted`);
      }
      if (mode === 'decrypt' || mode === 'recryptShallow' || mode === 'recryptDeep') frozen(i, `a ${mode} clone`);
      if (mode === 'keep' && i.facts.encrypted && i.settings.serialPorts + i.settings.parallelPorts > 0) noEncryptedFeatures(i);
      break;
    }
    case 'instantClone':
      if (i.facts.encrypted) encrypted(i, 'an instant clone');
      break;
    case 'export':
      if (i.facts.encrypted) encrypted(i, 'a backup export');
      break;
  }
  return { forcedCircular };
}
