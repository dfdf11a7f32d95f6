import { encodeVmxAsRead, readVmx, writeVmx, type VmxDocument } from '../vm-files/vmx.js';

/**
 * The parent's `instantClones` list, kept in step with this host's inventory: a child that
 * is unregistered leaves it (the last one leaving clears the mark, which lifts the parent's
 * instant-clone refusals), a child registered again rejoins it. Only the clear part changes,
 * so a locked parent is updated too. A parent .vmx that cannot be read is left alone (there is
 * no mark to keep); a failed write is the caller's error.
 */
export async function unlinkInstantClone(parentVmx: string, childUuid: string): Promise<void> {
  await relink(parentVmx, (list) => list.filter((u) => u !== childUuid));
}

export async function linkInstantClone(parentVmx: string, childUuid: string): Promise<void> {
  await relink(parentVmx, (list) => (list.includes(childUuid) ? list : [...list, childUuid]));
}

async function relink(parentVmx: string, change: (list: readonly string[]) => readonly string[]): Promise<void> {
  const doc = await readVmx(parentVmx).catch(() => undefined);
  if (doc === undefined) return;
  const before = doc.instantClones ?? [];
  const after = change(before);
  if (after.length === before.length && after.every((u, i) => u === before[i])) return;
  const { instantClones: _i, ...rest } = doc;
  const next: VmxDocument = after.length === 0 ? rest : { ...rest, instantClones: after };
  await writeVmx(parentVmx, encodeVmxAsRead(next));
}
