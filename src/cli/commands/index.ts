import type { CommandGroup } from '../command.js';
import { groupSummary, type GroupName } from './summaries.js';

/** A verb group known by name and summary; its module is imported only when the group runs. */
export interface LazyCommandGroup {
  readonly name: GroupName;
  readonly summary: string;
  load(): Promise<CommandGroup>;
}

function lazy(name: GroupName, load: () => Promise<CommandGroup>): LazyCommandGroup {
  return { name, summary: groupSummary(name), load };
}

/**
 * Every verb group of `vmcrypt`, in the order `vmcrypt --help` lists them. Loading one group only
 * (not the key server, the manager and the disk engine for every `vmcrypt vm list`) keeps the
 * start of a command short and lets a command run while an unrelated part does not load.
 */
export const commandIndex: readonly LazyCommandGroup[] = [
  lazy('lab', async () => (await import('./lab.js')).labCommands),
  lazy('login', async () => (await import('./session.js')).loginCommands),
  lazy('logout', async () => (await import('./session.js')).logoutCommands),
  lazy('whoami', async () => (await import('./session.js')).whoamiCommands),
  lazy('vm', async () => (await import('./vm.js')).vmCommands),
  lazy('host', async () => (await import('./host-inventory.js')).hostGroup),
  lazy('cluster', async () => (await import('./cluster.js')).clusterCommands),
  lazy('datastore', async () => (await import('./datastore.js')).datastoreCommands),
  lazy('kms', async () => (await import('./kms-manager.js')).kmsGroup),
  lazy('key', async () => (await import('./key.js')).keyCommands),
  lazy('policy', async () => (await import('./policy.js')).policyCommands),
  lazy('events', async () => (await import('./activity.js')).eventsCommands),
  lazy('alarms', async () => (await import('./activity.js')).alarmsCommands),
  lazy('tasks', async () => (await import('./activity.js')).tasksCommands),
  lazy('user', async () => (await import('./access.js')).userCommands),
  lazy('role', async () => (await import('./access.js')).roleCommands),
  lazy('permission', async () => (await import('./access.js')).permissionCommands),
  lazy('disk', async () => (await import('./disk.js')).diskCommands),
  lazy('manager', async () => (await import('./manager.js')).managerCommands),
  lazy('crypto-util', async () => (await import('./crypto-util.js')).cryptoUtilCommands),
];

/** Every group, loaded (for tests and tools that walk all the verbs). */
export async function loadCommandGroups(): Promise<CommandGroup[]> {
  return Promise.all(commandIndex.map((g) => g.load()));
}
