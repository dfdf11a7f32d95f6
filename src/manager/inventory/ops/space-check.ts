import { EntityKind, type EventPoster, type HostGateway } from '../../contracts.js';
import { refuse, VmRule } from './rules.js';

/**
 * "Twice the space": encrypt, decrypt, deep rekey and clone write a full copy of every disk
 * beside the old one before the old one goes, so the datastore must hold that copy on top of
 * what is there. Refused before anything is touched, with the critical `vm.crypto.noDiskSpace`
 * event naming the datastore, what is needed and what is free (vSphere's "Insufficient disk
 * space to perform the cryptographic operation").
 */
export interface SpaceNeed {
  readonly vmId: string;
  readonly vmName: string;
  readonly hostId: string;
  /** The datastore's name on that host (mount name). */
  readonly mountName: string;
  /** The datastore's inventory name, for the operator. */
  readonly datastoreName: string;
  readonly neededBytes: number;
  readonly user?: string;
}

const MAX_BYTES = 2 ** 60;

/**
 * What an in-place conversion needs free (the host's figure: docs/host.md): the header growth
 * and staging area, 4 MiB per disk, plus the host's 16 MiB headroom. No copy of the data.
 */
export const IN_PLACE_BYTES_PER_DISK = 4 << 20;
export const HOST_HEADROOM_BYTES = 16 << 20;
export function inPlaceNeededBytes(disks: number): number {
  return disks * IN_PLACE_BYTES_PER_DISK + HOST_HEADROOM_BYTES;
}

/** How a disk-rewriting operation runs: a copy beside the original (default), or in place. */
export type RewriteMode = 'copy' | 'in-place';

export interface ModeNeed extends SpaceNeed {
  /** What the in-place conversion needs free (inPlaceNeededBytes). */
  readonly inPlaceBytes: number;
  /** The operator asked for in place. */
  readonly asked: boolean;
}

/** Free bytes of the datastore as the host reports them, or undefined when it does not. */
export async function datastoreFreeBytes(hosts: HostGateway, hostId: string, mountName: string): Promise<number | undefined> {
  const r = await hosts.call<{ datastores?: unknown }>(hostId, 'GET', '/v1/datastores');
  const list = Array.isArray(r.datastores) ? r.datastores.slice(0, 1024) : [];
  for (const d of list) {
    if (typeof d !== 'object' || d === null) continue;
    const o = d as Record<string, unknown>;
    if (o['name'] !== mountName) continue;
    const free = o['freeBytes'] ?? o['availableBytes'];
    if (typeof free === 'number' && Number.isSafeInteger(free) && free >= 0 && free < MAX_BYTES) return free;
  }
  return undefined;
}

export class SpaceCheck {
  readonly #hosts: HostGateway;
  readonly #events: EventPoster;
  /** VMs refused for space since this manager started: the next pass clears their alarm. */
  readonly #short = new Set<string>();

  constructor(hosts: HostGateway, events: EventPoster) {
    this.#hosts = hosts;
    this.#events = events;
  }

  /**
   * The copy where the datastore holds it (the original stays untouched until the commit), in
   * place where it does not (instead of refusing) or where the operator asked for it. Refused
   * as before (`vm.crypto.noDiskSpace`) only when not even the in-place growth fits.
   */
  async choose(n: ModeNeed, what: string): Promise<RewriteMode> {
    const free = await datastoreFreeBytes(this.#hosts, n.hostId, n.mountName);
    if (!n.asked && (free === undefined || free >= n.neededBytes)) {
      this.#ok(n);
      return 'copy';
    }
    if (free !== undefined && free < n.inPlaceBytes) this.#refuse(n, what, free, n.inPlaceBytes);
    this.#ok(n);
    return 'in-place';
  }

  async require(n: SpaceNeed, what: string): Promise<void> {
    const free = await datastoreFreeBytes(this.#hosts, n.hostId, n.mountName);
    if (free !== undefined && free < n.neededBytes) this.#refuse(n, what, free);
    this.#ok(n);
  }

  /** `vm.crypto.noDiskSpace` (critical) and the refusal; `inPlaceBytes` when not even in place fits. */
  #refuse(n: SpaceNeed, what: string, free: number, inPlaceBytes?: number): never {
    this.#short.add(n.vmId);
    const how = inPlaceBytes === undefined ? 'for the temporary copy' : `for the temporary copy, and ${inPlaceBytes} even in place`;
    this.#events.post({
      type: 'vm.crypto.noDiskSpace', severity: 'critical', entity: { kind: EntityKind.VM, id: n.vmId }, ...(n.user === undefined ? {} : { user: n.user }),
      message: `insufficient disk space to ${what} VM ${n.vmName}: datastore ${n.datastoreName} needs ${n.neededBytes} bytes free ${how}, has ${free}`,
      data: { datastore: n.datastoreName, neededBytes: n.neededBytes, freeBytes: free, ...(inPlaceBytes === undefined ? {} : { inPlaceBytes }) },
    });
    throw refuse(VmRule.DISK_SPACE, `datastore ${n.datastoreName} has ${free} bytes free; ${what} VM ${n.vmName} needs ${n.neededBytes} ${how}`);
  }

  /** The operation goes ahead: a VM refused before gets its alarm cleared. */
  #ok(n: SpaceNeed): void {
    if (this.#short.delete(n.vmId)) {
      this.#events.post({ type: 'vm.crypto.diskSpaceOk', severity: 'info', entity: { kind: EntityKind.VM, id: n.vmId }, message: `datastore ${n.datastoreName} has room for VM ${n.vmName}'s operation again` });
    }
  }
}
