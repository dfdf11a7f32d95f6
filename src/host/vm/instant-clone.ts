import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { HostError } from '../errors.js';
import { NVRAM_BYTES, readNvram, writeNvram } from '../vm-files/nvram.js';
import type { DiskLayer, VmConfig, VmDisk } from '../vm-files/vm-config.js';
import { generateDek } from '../vm-files/vm-crypto.js';
import { VmLog } from '../vm-files/vm-log.js';
import { encodeVmx, readVmx, VMX_FORMAT, VM_NAME_RE, writeVmx, type VmxDocument } from '../vm-files/vmx.js';
import { wrapDek } from '../../crypto/wrap.js';
import { addOverlay, createSnapshot } from './vm-snapshots.js';
import { withKeyIds, withOpenVm, type OpenVm } from './vm-open.js';
import { prepareTargetDir, PARTIAL_MARKER } from './vm-copy.js';
import type { VmInventory } from './vm-copy-ops.js';
import { rm } from 'node:fs/promises';

/**
 * Instant clone: the parent's current disks are frozen by a snapshot (live when it runs),
 * and the child gets its own active overlay on those frozen layers (qcow2 backing by full
 * path into the parent's directory). The child inherits the parent's keys: the same KEK, the
 * same wrapped layer DEKs for the shared layers, a new DEK for its own overlay and its own VM
 * DEK. From then on both are marked in their clear part (`instantClones`,
 * `instantCloneOf`), and the host refuses what would change the shared keys or layers.
 */
export async function instantCloneVm(inv: VmInventory, uuid: string, spec: { name: string; datastore: string }): Promise<{ uuid: string; vmx: string }> {
  if (!VM_NAME_RE.test(spec.name)) throw new HostError('HOST_BAD_REQUEST', 'name must match [A-Za-z0-9][A-Za-z0-9._-]{0,63}');
  const dsPath = inv.ctx.store.state.datastores[spec.datastore];
  if (dsPath === undefined) throw new HostError('HOST_NOT_FOUND', `no datastore named ${spec.datastore}`);
  const dir = join(dsPath, spec.name);
  const parentVmx = inv.vmxOf(uuid);
  const childUuid = randomUUID();
  const vmx = await inv.serial(uuid, async () => {
    const running = inv.runtime.isRunning(uuid);
    await withOpenVm(inv.ctx, parentVmx, (vm) =>
      createSnapshot(vm, `instant-clone-${spec.name}`, false, running ? (d, p, k) => inv.runtime.attachOverlay(uuid, d, p, k) : undefined),
    );
    return withOpenVm(inv.ctx, parentVmx, async (parent) => {
      const childVmx = await writeChild(parent, dir, spec.name, childUuid);
      // the parent learns of its child last: a crash before leaves an unregistered child
      const doc = await readVmx(parentVmx);
      const { encrypted: _e, config: _c, ...clear } = doc;
      const links = { ...clear, instantClones: [...(doc.instantClones ?? []), childUuid] };
      await writeVmx(parentVmx, encodeVmx(links, parent.config, parent.vmDek));
      return childVmx;
    });
  });
  await inv.add(childUuid, vmx);
  inv.ctx.events.post('vm.instantCloned', `VM ${spec.name} is an instant clone of ${uuid}`, { vmUuid: childUuid });
  return { uuid: childUuid, vmx };
}

async function writeChild(parent: OpenVm, dir: string, name: string, uuid: string): Promise<string> {
  await prepareTargetDir(dir); // before the try: an existing directory is never removed
  const ks = parent.doc.keySafe;
  const vmDek = ks === undefined ? undefined : generateDek();
  try {
    const child: OpenVm = {
      ...parent, uuid, dir,
      doc: { ...parent.doc, name, uuid },
    };
    const tag = randomBytes(6).toString('hex');
    const disks: VmDisk[] = [];
    for (const disk of parent.config.disks) {
      // frozen layers of the parent (its active layer stays its own)
      const shared = disk.layers.slice(0, -1).map((l): DiskLayer => ({ ...l, dir: l.dir ?? parent.dir }));
      const frozenTop = shared[shared.length - 1];
      if (frozenTop === undefined) throw new HostError('HOST_VMX_INVALID', `${disk.id}: no frozen layer`);
      const top = await addOverlay(child, { ...disk, layers: shared }, frozenTop, tag);
      disks.push({ id: disk.id, sizeBytes: disk.sizeBytes, layers: [...shared, top] });
    }
    const config: VmConfig = { ...parent.config, disks, snapshots: [], nvram: `${name}.nvram`, log: `${name}.log` };
    const nvram = await readNvram(join(parent.dir, parent.config.nvram), parent.uuid, parent.vmDek).catch(() => Buffer.alloc(NVRAM_BYTES));
    try {
      await writeNvram(join(dir, config.nvram), uuid, nvram, vmDek);
    } finally {
      nvram.fill(0);
    }
    const log = await VmLog.open(join(dir, config.log), uuid, vmDek);
    await log.append(`instant clone of VM ${parent.doc.name} (${parent.uuid})`).finally(() => log.close());
    const clear: Omit<VmxDocument, 'encrypted' | 'config'> = {
      format: VMX_FORMAT, name, uuid, createdAt: new Date().toISOString(), storagePolicy: parent.doc.storagePolicy,
      instantCloneOf: parent.uuid,
      ...(ks === undefined || vmDek === undefined || parent.kek === undefined
        ? {}
        : { keySafe: { providerId: ks.providerId, keyId: ks.keyId, wrappedDek: wrapDek(parent.kek, vmDek, ks.keyId) } }),
    };
    const vmxPath = join(dir, `${name}.vmx`);
    await writeVmx(vmxPath, encodeVmx(withKeyIds(clear, config), config, vmDek));
    await rm(join(dir, PARTIAL_MARKER), { force: true });
    return vmxPath;
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  } finally {
    vmDek?.fill(0);
  }
}
