import type { CommandGroup } from '../command.js';
import { verbGroup } from '../verbs/verb-group.js';
import { vmCreate, vmInfo, vmList } from './vm/vm-inventory.js';
import { vmDecrypt, vmDiskDecrypt, vmDiskEncrypt, vmEncrypt, vmRekey, vmUnlock } from './vm/vm-crypto.js';
import { vmPowerOff, vmPowerOn } from './vm/vm-power.js';
import { snapshotCreate, snapshotList, snapshotRemove, snapshotRevert } from './vm/vm-snapshots.js';
import { vmClone, vmExport, vmInstantClone, vmRestore } from './vm/vm-copies.js';
import { vmMove, vmSet } from './vm/vm-move.js';
import { groupSummary } from './summaries.js';

export const vmCommands: CommandGroup = verbGroup({
  name: 'vm',
  summary: groupSummary('vm'),
  intro: ['VM arguments are a VM name or id (vmcrypt vm list). Long operations show a progress bar on a terminal.'],
  verbs: [
    vmList, vmCreate, vmInfo, vmEncrypt, vmDecrypt, vmRekey, vmUnlock, vmPowerOn, vmPowerOff,
    snapshotCreate, snapshotList, snapshotRevert, snapshotRemove,
    vmClone, vmInstantClone, vmExport, vmRestore, vmDiskEncrypt, vmDiskDecrypt, vmMove, vmSet,
  ],
});
