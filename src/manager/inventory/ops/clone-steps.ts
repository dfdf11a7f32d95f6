import { ManagerError } from '../../errors.js';
import { isHostRefusal } from '../hosts/host-gateway.js';
import { parseHostVm, type HostVm } from '../hosts/host-replies.js';
import { hostVmAt, newKek, type ReconcileStep, type StepContext, type StepList } from '../reconcile.js';

/**
 * Clone, instant clone and restore make a NEW VM, so they run like create: a provisional VM
 * row + an operation, then kek (when the copy gets new keys), push (to the source's host,
 * which writes the copy, and the destination's), copy on the host (adopted after a crash when
 * the files it made are there), register on the destination host when that is another one.
 */
export interface CopySpec {
  readonly sourceVmId?: string;
  readonly sourceHostId: string;
  readonly mode: 'keep' | 'encrypt' | 'decrypt' | 'recryptShallow' | 'recryptDeep' | 'instant' | 'restore';
  /** The destination datastore's name on the source host (it writes there). */
  readonly mountOnSource: string;
  readonly vmxPath: string;
  /** Restore: the exported copy's directory. */
  readonly from?: string;
}

const spec = (c: StepContext): CopySpec => c.op().spec as unknown as CopySpec;

/** The provisional row takes the host's uuid; a row the host monitor imported for it meanwhile goes. */
function adopt(c: StepContext, provisional: string, uuid: string): void {
  const other = c.deps.vms.vm(uuid);
  if (other !== undefined && other.id !== provisional) c.deps.vms.delete(uuid);
  c.deps.vms.rename(provisional, uuid);
}
const needsKey = (m: CopySpec['mode']): boolean => m === 'encrypt' || m === 'recryptShallow' || m === 'recryptDeep';

const copyKek: ReconcileStep = { ...newKek, when: (c) => c.op().key === undefined && (needsKey(spec(c).mode) || (spec(c).mode === 'restore' && c.policy().encryption)) };

const pushBoth: ReconcileStep = {
  name: 'push',
  async run(c) {
    const s = spec(c);
    const key = c.op().key;
    const src = s.sourceVmId === undefined ? undefined : c.deps.vms.vm(s.sourceVmId);
    const srcKeys = src === undefined ? [] : [...new Map(src.keys.map((k) => [k.key.keyId, k.key])).values()];
    if (src !== undefined && (srcKeys.length > 0 || key !== undefined)) await c.deps.keys().pushForVm(src.id, [...srcKeys, ...(key === undefined ? [] : [key])]);
    // a restore has no source VM: its new KEK goes where the new VM's push rule says (the
    // provisional row names the host that writes it), or the host refuses with HOST_KEY_MISSING
    else if (src === undefined && key !== undefined) await c.deps.keys().pushForVm(c.op().vmId, [key]);
  },
};

const copyOnHost: ReconcileStep = {
  name: 'copy',
  when: (c) => c.deps.vms.vm(c.op().vmId)?.provisioned === false,
  async run(c) {
    const s = spec(c);
    const vm = c.deps.vms.require(c.op().vmId);
    const key = c.op().key;
    const enc = key === undefined ? {} : { encryption: { providerId: key.providerId, keyId: key.keyId } };
    let made: HostVm | undefined = await hostVmAt(c, s.sourceHostId, s.vmxPath);
    if (made === undefined) {
      try {
        if (s.mode === 'restore') {
          made = parseHostVm(await c.deps.hosts.call(s.sourceHostId, 'POST', '/v1/vms/restore', { from: s.from, name: vm.name, datastore: s.mountOnSource, ...enc }));
        } else if (s.mode === 'instant') {
          made = parseHostVm(await c.deps.hosts.call(s.sourceHostId, 'POST', `/v1/vms/${s.sourceVmId ?? ''}/instant-clone`, { name: vm.name }));
        } else {
          const mode = s.mode === 'recryptShallow' || s.mode === 'recryptDeep' ? 'recrypt' : s.mode;
          made = parseHostVm(await c.deps.hosts.call(s.sourceHostId, 'POST', `/v1/vms/${s.sourceVmId ?? ''}/clone`, {
            name: vm.name, datastore: s.mountOnSource, mode, ...(s.mode === 'recryptDeep' ? { deep: true } : s.mode === 'recryptShallow' ? { deep: false } : {}), ...enc,
          }));
        }
      } catch (err) {
        if (!(isHostRefusal(err) && err.code === 'HOST_CONFLICT')) throw err;
        made = await hostVmAt(c, s.sourceHostId, s.vmxPath);
        if (made === undefined) throw err;
      }
    }
    if (key !== undefined && made.observation.encrypted && made.observation.keys[0]?.key.keyId !== key.keyId) {
      throw new ManagerError('MANAGER_CONFLICT', `${s.vmxPath} exists and is not the copy this operation made`);
    }
    c.deps.ops.patchSpec(c.op().id, { madeUuid: made.uuid });
    if (vm.hostId === s.sourceHostId) {
      adopt(c, vm.id, made.uuid);
      c.deps.vms.recordObserved(made.uuid, made.observation);
    }
  },
};

/** A copy for another host (through a shared datastore): registered there, then let go by the source's host. */
const registerOnDestination: ReconcileStep = {
  name: 'register',
  when: (c) => c.deps.vms.vm(c.op().vmId)?.provisioned === false,
  async run(c) {
    const s = spec(c);
    const vm = c.deps.vms.require(c.op().vmId);
    const uuid = String(c.op().spec['madeUuid'] ?? '');
    let hv: HostVm;
    try {
      hv = parseHostVm(await c.deps.hosts.call(vm.hostId, 'POST', '/v1/vms/register', { vmx: s.vmxPath }));
    } catch (err) {
      if (!(isHostRefusal(err) && err.code === 'HOST_CONFLICT')) throw err;
      hv = parseHostVm(await c.deps.hosts.call(vm.hostId, 'GET', `/v1/vms/${uuid}`));
    }
    await c.deps.hosts.call(s.sourceHostId, 'DELETE', `/v1/vms/${uuid}`).catch(() => undefined);
    adopt(c, vm.id, hv.uuid);
    c.deps.vms.recordObserved(hv.uuid, hv.observation);
    if (hv.observation.keys.length > 0) {
      await c.deps.keys().pushForVm(hv.uuid, [...new Map(hv.observation.keys.map((k) => [k.key.keyId, k.key])).values()]);
      c.deps.vms.recordObserved(hv.uuid, parseHostVm(await c.deps.hosts.call(vm.hostId, 'GET', `/v1/vms/${hv.uuid}`)).observation);
    }
  },
};

const announce: ReconcileStep = {
  name: 'finish',
  async run(c) {
    const op = c.op();
    const s = spec(c);
    const vm = c.deps.vms.require(op.vmId);
    const user = op.user === undefined ? {} : { user: op.user };
    const entity = { kind: 'vm' as const, id: vm.id };
    if (s.mode === 'restore') {
      if (!vm.encrypted) {
        c.deps.events.post({ type: 'vm.restoredUnencrypted', severity: 'warning', entity, ...user, message: `VM ${vm.name} was restored into policy ${c.policy().name}: it is NOT encrypted now` });
      } else c.deps.events.post({ type: 'vm.restored', severity: 'info', entity, ...user, message: `VM ${vm.name} restored, encrypted with key ${vm.keys[0]?.key.keyId ?? '?'}` });
      return;
    }
    const what = s.mode === 'instant' ? 'instant clone' : `clone (${s.mode})`;
    c.deps.events.post({ type: s.mode === 'instant' ? 'vm.instantCloned' : 'vm.cloned', severity: 'info', entity, ...user, message: `VM ${vm.name} made as ${what} of ${s.sourceVmId ?? '?'}${vm.encrypted ? ` (encrypted with key ${vm.keys[0]?.key.keyId ?? '?'})` : ''}` });
  },
};

export const COPY_STEPS: Record<string, StepList> = {
  clone: [copyKek, pushBoth, copyOnHost, registerOnDestination, announce],
  instantClone: [pushBoth, copyOnHost, registerOnDestination, announce],
  restore: [copyKek, pushBoth, copyOnHost, registerOnDestination, announce],
};
