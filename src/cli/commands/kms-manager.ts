import type { CommandGroup } from '../command.js';
import { verbGroup } from '../verbs/verb-group.js';
import { kmsAdd, kmsDefault, kmsList, kmsRemove, kmsStatus } from './kms-providers/provider-verbs.js';
import { kmsTrust } from './kms-providers/trust-verb.js';
import { kmsCommands } from './kms.js';
import { groupSummary } from './summaries.js';

/** `vmcrypt kms`: key providers through the manager beside the key server's own verbs (serve, init, …). */
export const kmsGroup: CommandGroup = verbGroup({
  name: 'kms',
  summary: groupSummary('kms'),
  verbs: [kmsList, kmsAdd, kmsRemove, kmsStatus, kmsDefault, kmsTrust],
  fallback: kmsCommands,
});
