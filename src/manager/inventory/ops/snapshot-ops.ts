import { EntityKind, type EventPoster, type HostGateway, type Principal } from '../../contracts.js';
import { parseHostVm } from '../hosts/host-replies.js';
import type { VmDetail, VmStore } from '../store/vm-store.js';
import type { OpLocks } from './op-locks.js';
import { refuse, VmRule } from './rules.js';
import { parseVmFacts, readVmFacts, type SnapshotFacts } from './vm-facts.js';

/**
 * Snapshots as vSphere has them: a tree (reverting to an older one and taking a new one starts
 * a second branch), disk-only for encrypted VMs (memory snapshots refused by rule). Each call
 * holds the VM's lock so it cannot interleave with a rekey.
 */
export class SnapshotOps {
  readonly #vms: VmStore;
  readonly #gateway: HostGateway;
  readonly #locks: OpLocks;
  readonly #events: EventPoster;

  constructor(d: { vms: VmStore; gateway: HostGateway; locks: OpLocks; events: EventPoster }) {
    this.#vms = d.vms;
    this.#gateway = d.gateway;
    this.#locks = d.locks;
    this.#events = d.events;
  }

  async list(vmId: string): Promise<{ snapshots: readonly SnapshotFacts[]; currentSnapshotId?: string }> {
    const vm = this.#vms.require(vmId);
    const f = await readVmFacts(this.#gateway, vm.hostId, vm.id);
    return { snapshots: f.snapshots, ...(f.currentSnapshotId === undefined ? {} : { currentSnapshotId: f.currentSnapshotId }) };
  }

  #locked<T>(vm: VmDetail, fn: () => Promise<T>): Promise<T> {
    return this.#locks.run(vm.id, () => this.#vms.require(vm.id).hostId, fn);
  }

  async #refresh(vm: VmDetail): Promise<void> {
    const hv = parseHostVm(await this.#gateway.call(vm.hostId, 'GET', `/v1/vms/${vm.id}`));
    this.#vms.recordObserved(vm.id, hv.observation);
  }

  async create(vmId: string, name: string, memory: boolean, who: Principal): Promise<SnapshotFacts> {
    const vm = this.#vms.require(vmId);
    if (memory && (vm.encrypted || (await readVmFacts(this.#gateway, vm.hostId, vm.id)).encrypted)) {
      throw refuse(VmRule.MEMORY_SNAPSHOT, `VM ${vm.name} is encrypted: memory snapshots are not supported; take a disk-only snapshot`);
    }
    return this.#locked(vm, async () => {
      const r = await this.#gateway.call<Record<string, unknown>>(vm.hostId, 'POST', `/v1/vms/${vm.id}/snapshots`, { name, memory });
      await this.#refresh(vm);
      this.#events.post({ type: 'vm.snapshot.created', severity: 'info', entity: { kind: EntityKind.VM, id: vm.id }, user: who.user, message: `VM ${vm.name}: snapshot ${name} taken` });
      const snap = parseVmFacts({ uuid: vm.id, name: vm.name, powerState: 'poweredOff', snapshots: [r] }).snapshots[0];
      return snap ?? { id: String(r['id'] ?? ''), name };
    });
  }

  async revert(vmId: string, snapshotId: string, who: Principal): Promise<void> {
    const vm = this.#vms.require(vmId);
    return this.#locked(vm, async () => {
      await this.#gateway.call(vm.hostId, 'POST', `/v1/vms/${vm.id}/snapshots/${encodeURIComponent(snapshotId)}/revert`);
      await this.#refresh(vm);
      this.#events.post({ type: 'vm.snapshot.reverted', severity: 'info', entity: { kind: EntityKind.VM, id: vm.id }, user: who.user, message: `VM ${vm.name}: reverted to snapshot ${snapshotId}` });
    });
  }

  async remove(vmId: string, snapshotId: string, who: Principal): Promise<void> {
    const vm = this.#vms.require(vmId);
    return this.#locked(vm, async () => {
      await this.#gateway.call(vm.hostId, 'DELETE', `/v1/vms/${vm.id}/snapshots/${encodeURIComponent(snapshotId)}`);
      await this.#refresh(vm);
      this.#events.post({ type: 'vm.snapshot.removed', severity: 'info', entity: { kind: EntityKind.VM, id: vm.id }, user: who.user, message: `VM ${vm.name}: snapshot ${snapshotId} removed` });
    });
  }
}
