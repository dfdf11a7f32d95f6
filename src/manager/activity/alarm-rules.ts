import type { ManagerEvent } from '../contracts.js';

export type AlarmStatus = 'green' | 'yellow' | 'red';

/**
 * How an event moves an alarm (vCenter's alarm definitions, fixed): `match` is an exact event
 * type or a `prefix.*`; `status` green clears the alarm, yellow/red trigger it. One alarm per
 * (name, entity); an event without an entity raises it on the inventory root.
 */
export interface AlarmRule {
  readonly match: string;
  readonly alarm: string;
  readonly status: AlarmStatus | ((event: ManagerEvent) => AlarmStatus | undefined);
}

const healthStatus = (event: ManagerEvent): AlarmStatus | undefined => {
  const s = event.data?.['status'];
  return s === 'green' || s === 'yellow' || s === 'red' ? s : undefined;
};

export const ALARM_RULES: readonly AlarmRule[] = [
  { match: 'kms.unreachable', alarm: 'kms.connectivity', status: 'red' },
  { match: 'kms.reachable', alarm: 'kms.connectivity', status: 'green' },
  { match: 'kms.health', alarm: 'kms.health', status: healthStatus },
  { match: 'kms.certExpiring', alarm: 'kms.certificate', status: 'yellow' },
  { match: 'kms.certRenewed', alarm: 'kms.certificate', status: 'green' },
  { match: 'vm.locked.*', alarm: 'vm.locked', status: 'red' },
  { match: 'vm.unlocked', alarm: 'vm.locked', status: 'green' },
  { match: 'coredump.encryptedExists', alarm: 'host.encryptedCoredump', status: 'yellow' },
  { match: 'coredump.cleared', alarm: 'host.encryptedCoredump', status: 'green' },
  { match: 'vm.diskChainMixedKeys', alarm: 'vm.diskChain', status: 'red' },
  { match: 'vm.diskChainConsistent', alarm: 'vm.diskChain', status: 'green' },
  { match: 'vm.rekeyFailed', alarm: 'vm.rekey', status: 'red' },
  { match: 'vm.rekeyed', alarm: 'vm.rekey', status: 'green' },
  { match: 'key.createFailed', alarm: 'key.create', status: 'red' },
  { match: 'key.created', alarm: 'key.create', status: 'green' },
  { match: 'vm.crypto.noDiskSpace', alarm: 'vm.diskSpace', status: 'red' },
  { match: 'vm.crypto.diskSpaceOk', alarm: 'vm.diskSpace', status: 'green' },
];

export function ruleMatches(rule: AlarmRule, type: string): boolean {
  return rule.match.endsWith('.*') ? type.startsWith(rule.match.slice(0, -1)) : type === rule.match;
}
