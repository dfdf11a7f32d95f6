import type { CommandGroup } from '../command.js';
import { diskCommands } from './disk.js';
import { cryptoUtilCommands } from './crypto-util.js';
import { labCommands } from './lab.js';
import { managerCommands } from './manager.js';
import { loginCommands, logoutCommands, whoamiCommands } from './session.js';
import { vmCommands } from './vm.js';
import { hostGroup } from './host-inventory.js';
import { clusterCommands } from './cluster.js';
import { datastoreCommands } from './datastore.js';
import { kmsGroup } from './kms-manager.js';
import { keyCommands } from './key.js';
import { policyCommands } from './policy.js';
import { alarmsCommands, eventsCommands, tasksCommands } from './activity.js';
import { permissionCommands, roleCommands, userCommands } from './access.js';

/** Every verb group of `vmcrypt`, in the order `vmcrypt --help` lists them. */
export const commandGroups: readonly CommandGroup[] = [
  labCommands,
  loginCommands,
  logoutCommands,
  whoamiCommands,
  vmCommands,
  hostGroup,
  clusterCommands,
  datastoreCommands,
  kmsGroup,
  keyCommands,
  policyCommands,
  eventsCommands,
  alarmsCommands,
  tasksCommands,
  userCommands,
  roleCommands,
  permissionCommands,
  diskCommands,
  managerCommands,
  cryptoUtilCommands,
];
