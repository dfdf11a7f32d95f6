import type { CommandGroup } from '../command.js';
import { kmsCommands } from './kms.js';
import { diskCommands } from './disk.js';
import { hostCommands } from './host.js';
import { cryptoUtilCommands } from './crypto-util.js';
import { labCommands } from './lab.js';
import { managerCommands } from './manager.js';

/** Every verb group of `vmcrypt`, in the order `vmcrypt --help` lists them. */
export const commandGroups: readonly CommandGroup[] = [
  labCommands,
  kmsCommands,
  diskCommands,
  hostCommands,
  managerCommands,
  cryptoUtilCommands,
];
