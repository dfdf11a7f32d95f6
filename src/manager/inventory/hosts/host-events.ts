import { EntityKind, type EventInput, type Severity } from '../../contracts.js';
import type { HostEventReply } from './host-replies.js';

/**
 * Host agent events the manager relays, under the manager's names (vSphere 7: "Encrypted core
 * dump exists" is a warning with the file's name and location). Unlisted host events are
 * not relayed: the manager posts its own for what it does itself. The agent's `vm.unlocked`
 * and `host.cryptoSafe` are among those: key management pushes the keys and sets the crypto
 * mode, knows why and for whom, and posts `vm.unlocked` / `host.cryptoEnabled` itself (relaying
 * the agent's too would show each twice).
 */
const RELAYED: Record<string, { type: string; severity: Severity }> = {
  'coredump.exists': { type: 'coredump.encryptedExists', severity: 'warning' },
  'coredump.plain': { type: 'coredump.plainExists', severity: 'warning' },
  'vm.poweredOn': { type: 'vm.poweredOn', severity: 'info' },
  'vm.poweredOff': { type: 'vm.poweredOff', severity: 'info' },
  'key.removed': { type: 'host.keyRemoved', severity: 'info' },
};

/** `knownVm` says whether a uuid is a VM of the inventory (then the event is about that VM). */
export function relayHostEvent(hostId: string, hostName: string, e: HostEventReply, knownVm: (uuid: string) => boolean): EventInput | undefined {
  const r = RELAYED[e.type];
  if (r === undefined) return undefined;
  const data: Record<string, string> = { host: hostName, hostEventTime: e.time };
  if (e.file !== undefined) data['file'] = e.file;
  if (e.location !== undefined) data['location'] = e.location;
  const onVm = e.vmUuid !== undefined && knownVm(e.vmUuid);
  const where = e.file !== undefined ? `: ${e.file}${e.location === undefined ? '' : ` in ${e.location}`}` : '';
  return {
    type: r.type,
    severity: r.severity,
    message: `host ${hostName}: ${e.message.slice(0, 512)}${e.type.startsWith('coredump.') ? where : ''}`,
    entity: onVm && e.vmUuid !== undefined ? { kind: EntityKind.VM, id: e.vmUuid } : { kind: EntityKind.HOST, id: hostId },
    data,
  };
}
