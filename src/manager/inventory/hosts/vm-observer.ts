import type { Logger } from 'pino';
import { EntityKind, type EventPoster } from '../../contracts.js';
import type { HostVm } from './host-replies.js';
import type { DatastoreStore } from '../store/datastore-store.js';
import { BUILT_IN_POLICY, type PolicyStore } from '../store/policy-store.js';
import type { VmStore } from '../store/vm-store.js';
import type { HostStore } from '../store/host-store.js';

/**
 * Folds what a host reports about its VMs into the inventory: observed state of known VMs,
 * VMs the host has that the inventory does not (added with the host, or registered on the
 * host directly) imported, and VMs the host no longer lists flagged.
 */
export class VmObserver {
  readonly #vms: VmStore;
  readonly #ds: DatastoreStore;
  readonly #policies: PolicyStore;
  readonly #hosts: HostStore;
  readonly #events: EventPoster;
  readonly #log: Logger;

  constructor(d: { vms: VmStore; datastores: DatastoreStore; policies: PolicyStore; hosts: HostStore; events: EventPoster; log: Logger }) {
    this.#vms = d.vms;
    this.#ds = d.datastores;
    this.#policies = d.policies;
    this.#hosts = d.hosts;
    this.#events = d.events;
    this.#log = d.log;
  }

  knows(uuid: string): boolean {
    return this.#vms.vm(uuid) !== undefined;
  }

  /** Taken right before a host's VM listing is asked for (see observeHost). */
  observationMark(): number {
    return this.#vms.observationMark();
  }

  /**
   * `mark`: VmStore.observationMark() taken before the listing was asked for. A VM observed
   * since (a task recorded what the host replied when it made or changed it) keeps that newer
   * observation: this listing may predate it, even predate the VM.
   */
  observeHost(hostId: string, reported: readonly HostVm[], mark: number): void {
    const newer = (id: string): boolean => this.#vms.observedSince(id, mark);
    const mine = this.#vms.onHost(hostId);
    // a VM being created has a provisional id until its step completes; its files may already be listed
    // (a clone for another host is written by this one: its provisional row names the other host)
    const pending = new Set(this.#vms.list().filter((v) => !v.provisioned).map((v) => `${v.datastoreId}/${v.name}`));
    const seen = new Set<string>();
    for (const hv of reported) {
      seen.add(hv.uuid);
      const known = this.#vms.vm(hv.uuid);
      if (known !== undefined) {
        if (known.hostId === hostId && !newer(hv.uuid)) this.#vms.recordObserved(hv.uuid, hv.observation);
        continue;
      }
      const ds = this.#datastoreOf(hostId, hv.vmx);
      if (ds === undefined) {
        this.#log.warn({ host: hostId, vmx: hv.vmx }, 'host lists a VM outside every datastore the inventory knows; not imported');
        continue;
      }
      if (pending.has(`${ds}/${hv.name}`)) continue;
      // deleted from the inventory after this listing was asked for: a ghost of the old answer
      if (newer(hv.uuid)) continue;
      this.import(hostId, ds, hv);
    }
    for (const v of mine) {
      if (v.provisioned && !seen.has(v.id) && v.observedError === undefined && !newer(v.id)) {
        this.#vms.recordObserved(v.id, {
          encrypted: v.encrypted, keys: v.keys, powerState: 'poweredOff', locked: v.locked,
          ...(v.lockReason === undefined ? {} : { lockReason: v.lockReason }),
          error: 'the host no longer lists this VM',
        });
      }
    }
  }

  /** Adds a VM the host already has; its policy is the one its .vmx names, or the built-in that matches what it is. */
  import(hostId: string, datastoreId: string, hv: HostVm, opts: { folderId?: string; policyId?: string } = {}): void {
    const byName = this.#policies.list().find((p) => p.encryption === hv.observation.encrypted && p.name === hv.storagePolicy);
    const policyId = opts.policyId ?? byName?.id ?? (hv.observation.encrypted ? BUILT_IN_POLICY.VM_ENCRYPTION : BUILT_IN_POLICY.DATASTORE_DEFAULT);
    this.#vms.insert({ id: hv.uuid, name: hv.name, hostId, datastoreId, policyId, provisioned: true, ...(opts.folderId === undefined ? {} : { folderId: opts.folderId }) });
    this.#vms.recordObserved(hv.uuid, hv.observation);
    const host = this.#hosts.host(hostId);
    this.#events.post({
      type: 'vm.registered', severity: 'info', entity: { kind: EntityKind.VM, id: hv.uuid },
      message: `VM ${hv.name} on host ${host?.name ?? hostId} added to the inventory${hv.observation.encrypted ? ' (encrypted)' : ''}`,
    });
  }

  #datastoreOf(hostId: string, vmx: string): string | undefined {
    return this.#ds.holding(hostId, vmx)?.id;
  }
}
