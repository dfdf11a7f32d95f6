/**
 * The one-line summary of every verb group, kept apart from the groups so that `vmcrypt --help`
 * and the command lookup need none of them loaded (src/cli/commands/index.ts loads a group only
 * when it runs).
 */
const SUMMARIES = {
  lab: 'the local lab on loopback (KMS, manager, hosts): up, down, kms-stop, kms-start',
  login: 'log in to a manager (writes the CLI profile)',
  logout: 'end the session and remove the profile',
  whoami: 'the logged-in user and privileges',
  vm: 'virtual machines through the manager: list, info, encrypt, rekey, clone, snapshots…',
  host: 'hosts: list | add | crypto-safe | restart | unlock (manager); serve | diagnostics | coredumps (agent)',
  cluster: 'clusters: list | create | set --ha',
  datastore: 'datastores: list | add',
  kms: 'key providers: list | add | remove | status | default | trust (manager); serve | init | issue-client-cert | cluster (key server)',
  key: 'keys (KEKs) by id: status | entities',
  policy: 'storage policies: list | create',
  events: 'recent events',
  alarms: 'alarms: list | ack ID',
  tasks: 'tasks: list | watch ID',
  user: 'users: list | create | delete | password',
  role: 'roles: list | create | delete',
  permission: 'permissions: list | set | remove',
  disk: 'encrypted disk files (LUKS1): create, encrypt, decrypt, rekey, info',
  manager: 'the manager (vCenter role): serve',
  'crypto-util': 'decrypt or recrypt encrypted core dumps',
} as const;

export type GroupName = keyof typeof SUMMARIES;

export function groupSummary(name: GroupName): string {
  return SUMMARIES[name];
}
