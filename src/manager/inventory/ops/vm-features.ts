import { EntityKind, type EventPoster, type HostGateway, type Principal } from '../../contracts.js';
import { parseHostVm } from '../hosts/host-replies.js';
import type { PolicyStore } from '../store/policy-store.js';
import type { VmDetail, VmStore } from '../store/vm-store.js';
import { refuse, VmRule } from './rules.js';
import { readVmFacts } from './vm-facts.js';
import type { SettingsPatch, VmSettings, VmSettingsStore } from './vm-settings-store.js';

/**
 * The features vSphere refuses for encrypted VMs (seeds 000/002): suspend/resume, fault
 * tolerance, replication, content library, serial/parallel ports, OVF export. Each is a real
 * switch here so that its refusal is a real, testable answer naming the rule; the marks of the
 * circular-dependency guard (this VM hosts the key server / the manager) live beside them.
 */
export class VmFeatures {
  readonly #vms: VmStore;
  readonly #policies: PolicyStore;
  readonly #settings: VmSettingsStore;
  readonly #gateway: HostGateway;
  readonly #events: EventPoster;

  constructor(d: { vms: VmStore; policies: PolicyStore; settings: VmSettingsStore; gateway: HostGateway; events: EventPoster }) {
    this.#vms = d.vms;
    this.#policies = d.policies;
    this.#settings = d.settings;
    this.#gateway = d.gateway;
    this.#events = d.events;
  }

  /** Encrypted now, or about to be (its policy encrypts): either way the feature is refused. */
  async #encrypted(vm: VmDetail): Promise<boolean> {
    if (vm.encrypted || this.#policies.require(vm.policyId).encryption) return true;
    return (await readVmFacts(this.#gateway, vm.hostId, vm.id)).encrypted;
  }

  get(vmId: string): VmSettings {
    this.#vms.require(vmId);
    return this.#settings.get(vmId);
  }

  async set(vmId: string, patch: Omit<SettingsPatch, 'instantCloneOf'>, who: Principal): Promise<VmSettings> {
    const vm = this.#vms.require(vmId);
    const turningOn = (k: keyof VmSettings): boolean => {
      const v = patch[k as keyof typeof patch];
      return v === true || (typeof v === 'number' && v > 0);
    };
    const refusals: Array<[keyof VmSettings, VmRule, string]> = [
      ['faultTolerance', VmRule.FAULT_TOLERANCE, 'fault tolerance cannot be turned on'],
      ['replication', VmRule.REPLICATION, 'replication cannot be turned on'],
      ['contentLibrary', VmRule.CONTENT_LIBRARY, 'it cannot be added to a content library'],
      ['serialPorts', VmRule.SERIAL_PARALLEL, 'serial ports cannot be added'],
      ['parallelPorts', VmRule.SERIAL_PARALLEL, 'parallel ports cannot be added'],
    ];
    const wanted = refusals.filter(([k]) => turningOn(k));
    if (wanted.length > 0 && (await this.#encrypted(vm))) {
      const [, rule, text] = wanted[0] as [keyof VmSettings, VmRule, string];
      throw refuse(rule, `VM ${vm.name} is encrypted: ${text}`);
    }
    const next = this.#settings.set(vm.id, patch);
    this.#events.post({ type: 'vm.settingsChanged', severity: 'info', entity: { kind: EntityKind.VM, id: vm.id }, user: who.user, message: `VM ${vm.name}: settings ${Object.keys(patch).join(', ')} changed`, data: Object.fromEntries(Object.entries(patch).filter(([, v]) => typeof v === 'boolean' || typeof v === 'number')) as Record<string, boolean | number> });
    return next;
  }

  /** Suspend / resume: refused for encrypted VMs; otherwise the host's power action. */
  async suspend(vmId: string, action: 'suspend' | 'resume', who: Principal): Promise<VmDetail> {
    const vm = this.#vms.require(vmId);
    if (await this.#encrypted(vm)) throw refuse(VmRule.SUSPEND, `VM ${vm.name} is encrypted: ${action} is not supported`);
    const hv = parseHostVm(await this.#gateway.call(vm.hostId, 'POST', `/v1/vms/${vm.id}/power`, { action }));
    this.#vms.recordObserved(vm.id, hv.observation);
    this.#events.post({ type: `vm.power.${action}`, severity: 'info', entity: { kind: EntityKind.VM, id: vm.id }, user: who.user, message: `VM ${vm.name}: ${action}` });
    return this.#vms.require(vm.id);
  }

  /** OVF export writes the VM's files as they are for another platform: refused for encrypted VMs. */
  async refuseOvf(vmId: string): Promise<VmDetail> {
    const vm = this.#vms.require(vmId);
    if (await this.#encrypted(vm)) throw refuse(VmRule.OVF_EXPORT, `VM ${vm.name} is encrypted: OVF export is not supported (use the backup export, which writes a clear copy)`);
    return vm;
  }
}
