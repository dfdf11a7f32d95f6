import { copyFile, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { HostError } from '../errors.js';
import { requireSpace } from '../datastores.js';
import { LiveMirror, prepareMirrorTarget, type MirrorDisk } from '../qemu/live-mirror.js';
import type { HostVms } from '../vm/host-vms.js';
import { layerPath, withOpenVm } from '../vm/vm-open.js';
import { PARTIAL_MARKER, prepareTargetDir } from '../vm/vm-copy.js';
import { readVmx } from '../vm-files/vmx.js';

/**
 * Storage migration: the VM's directory moves to another datastore of this host, keeping its
 * uuid and keys (files are copied as they are: ciphertext stays ciphertext). The new directory
 * carries the partial marker until the new .vmx is written and the host's inventory points at
 * it (the commit); only then are the old files removed. A crash before the commit leaves the
 * VM as it was; the marked leftovers are replaced by the next attempt.
 * Powered on: disks are mirrored by QEMU (live-mirror.ts) and switched after the commit.
 */
export async function relocateVm(vms: HostVms, uuid: string, datastore: string): Promise<{ vmxPath: string; bytes: number; seconds: number }> {
  const inv = vms.inventory;
  const ctx = inv.ctx;
  inv.vmxOf(uuid);
  const dsPath = ctx.store.state.datastores[datastore];
  if (dsPath === undefined) throw new HostError('HOST_NOT_FOUND', `no datastore named ${datastore}`);
  return inv.serial(uuid, async () => {
    const t0 = Date.now();
    const oldVmx = inv.vmxOf(uuid);
    const oldDir = dirname(oldVmx);
    const newDir = join(resolve(dsPath), basename(oldDir));
    if (resolve(dirname(oldDir)) === resolve(dsPath)) throw new HostError('HOST_BAD_REQUEST', `VM ${uuid} is already on datastore ${datastore}`);
    const doc = await readVmx(oldVmx);
    if ((doc.instantClones ?? []).length > 0 || doc.instantCloneOf !== undefined) throw new HostError('HOST_RULE', 'relocate refused: instant-clone parents and children share disk layers');
    const names = (await readdir(oldDir, { withFileTypes: true })).filter((e) => e.isFile() && e.name !== PARTIAL_MARKER).map((e) => e.name);
    const sizes = await Promise.all(names.map(async (n) => (await stat(join(oldDir, n))).size));
    const bytes = sizes.reduce((a, b) => a + b, 0);
    await requireSpace(ctx, newDir, bytes, `relocating VM ${doc.name} to datastore ${datastore}`);
    const running = inv.runtime.isRunning(uuid);
    const mirrored = new Set<string>();
    const disks: MirrorDisk[] = [];
    if (running) {
      await withOpenVm(ctx, oldVmx, async (vm) => {
        const h = inv.runtime.migrationHandle(uuid);
        for (const [i, d] of vm.config.disks.entries()) {
          const layer = d.layers[0];
          const node = h.nodes[i]?.[0];
          if (d.layers.length !== 1 || layer === undefined || node === undefined || layer.format === 'qcow2') {
            throw new HostError('HOST_RULE', 'relocating a running VM needs disks without snapshots: delete them or power the VM off');
          }
          mirrored.add(layer.file);
          const source = layerPath(vm, layer);
          disks.push({ node, format: layer.format, source, target: join(newDir, layer.file), ...(layer.wrappedDek === undefined ? {} : { secretId: `sec-d${i}l0` }) });
        }
      });
    }
    await prepareTargetDir(newDir);
    const vmxName = basename(oldVmx);
    const h = running ? inv.runtime.migrationHandle(uuid) : undefined;
    const logName = h === undefined ? undefined : basename(h.log.path);
    let mirror: LiveMirror | undefined;
    let committed = false;
    try {
      for (const n of names) {
        if (n === vmxName || mirrored.has(n) || n === logName) continue;
        await copySynced(join(oldDir, n), join(newDir, n));
      }
      if (h !== undefined) {
        for (const d of disks) await prepareMirrorTarget(d);
        mirror = await LiveMirror.start(h.qmp, disks);
        await h.log.append(`relocating to datastore ${datastore}`);
        await h.log.pause();
        if (logName !== undefined) await copySynced(join(oldDir, logName), join(newDir, logName));
      }
      await copySynced(join(oldDir, vmxName), join(newDir, `${vmxName}.tmp`));
      await rename(join(newDir, `${vmxName}.tmp`), join(newDir, vmxName));
      await syncDir(newDir);
      // the commit: from here the VM is the new directory
      await ctx.store.update((s) => ({ ...s, vms: s.vms.map((v) => (v.uuid === uuid ? { ...v, vmx: join(newDir, vmxName) } : v)) }));
      committed = true;
      if (h !== undefined && mirror !== undefined) {
        const nodes = await mirror.pivot();
        nodes.forEach((n, i) => {
          const stack = h.nodes[i];
          if (stack !== undefined) stack[0] = n;
        });
        await h.log.resume(join(newDir, logName ?? ''));
        await h.log.append(`relocated from ${oldDir}`);
      }
      await rm(join(newDir, PARTIAL_MARKER), { force: true });
      await rm(oldDir, { recursive: true, force: true });
    } catch (err) {
      if (committed) throw err;
      await mirror?.cancel();
      await h?.log.resume(join(oldDir, logName ?? ''));
      await rm(newDir, { recursive: true, force: true });
      throw err instanceof HostError ? err : new HostError('HOST_MIGRATION_FAILED', `relocate failed, the VM is unchanged: ${String(err)}`, { cause: err });
    }
    const total = running ? bytes - sizes.filter((_, i) => mirrored.has(names[i] ?? '')).reduce((a, b) => a + b, 0) + (mirror?.bytes ?? 0) : bytes;
    ctx.events.post('vm.relocated', `VM ${doc.name} relocated to datastore ${datastore}`, { vmUuid: uuid, location: datastore });
    return { vmxPath: join(newDir, vmxName), bytes: total, seconds: (Date.now() - t0) / 1000 };
  });
}

async function copySynced(from: string, to: string): Promise<void> {
  await copyFile(from, to);
  const fh = await open(to, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
