import type { CommandGroup } from '../command.js';
import { verbGroup } from '../verbs/verb-group.js';
import { kmsAdd, kmsDefault, kmsList, kmsRemove, kmsStatus } from './kms-providers/provider-verbs.js';
import { kmsTrust } from './kms-providers/trust-verb.js';
import { kmsCommands } from './kms.js';

/** `vmcrypt kms`: key providers through the manager beside the key server's own verbs (serve, init, …). */
export const kmsGroup: CommandGroup = verbGroup({
  name: 'kms',
  summary: 'key providers: list | add | remove | status | default | trust (manager); serve | init | issue-client-cert | cluster (key server)',
  verbs: [kmsList, kmsAdd, kmsRemove, kmsStatus, kmsDefault, kmsTrust],
  fallback: kmsCommands,
});
