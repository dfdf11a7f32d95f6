import { statfs } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { HostError } from './errors.js';
import type { HostContext } from './vm/vm-open.js';

export interface DatastoreInfo {
  readonly name: string;
  readonly path: string;
  readonly totalBytes: number;
  readonly freeBytes: number;
}

/** Headroom beyond the new files (metadata, headers, .vmx). */
export const SPACE_MARGIN_BYTES = 16 << 20;

/**
 * What an in-place conversion adds to the datastore at most, per disk (docs/disk.md "In place"):
 * encrypt grows the file by the 2 MiB header plus a 2 MiB staging area until the end; decrypt
 * stages the old header area (≤ 4 MiB for a payload offset of 8192 sectors); a deep rekey to
 * the larger offset grows by 2 MiB. No copy of the data: the twice-the-space rule does not apply.
 */
export const IN_PLACE_GROWTH_PER_DISK = 4 << 20;

export function inPlaceNeedBytes(disks: number): number {
  return disks * IN_PLACE_GROWTH_PER_DISK;
}

/** Total and free bytes of each datastore (statfs; free = what an unprivileged writer gets). */
export async function datastoreInfo(ctx: HostContext, name: string, path: string): Promise<DatastoreInfo> {
  const st = await statfs(path).catch(() => undefined);
  const totalBytes = st === undefined ? 0 : Number(st.blocks) * Number(st.bsize);
  const realFree = st === undefined ? 0 : Number(st.bavail) * Number(st.bsize);
  return { name, path, totalBytes, freeBytes: ctx.faults?.freeBytes(name) ?? realFree };
}

export async function listDatastores(ctx: HostContext): Promise<DatastoreInfo[]> {
  return Promise.all(Object.entries(ctx.store.state.datastores).map(([n, p]) => datastoreInfo(ctx, n, p)));
}

/** The datastore holding `dir` (longest path match), if it is one of ours. */
export function datastoreOf(ctx: HostContext, dir: string): { name: string; path: string } | undefined {
  const d = resolve(dir);
  let best: { name: string; path: string } | undefined;
  for (const [name, path] of Object.entries(ctx.store.state.datastores)) {
    const p = resolve(path);
    if ((d === p || d.startsWith(p + sep)) && (best === undefined || p.length > best.path.length)) best = { name, path: p };
  }
  return best;
}

/**
 * The "twice the space" rule on the host side: the new copy must fit beside the old files.
 * Refuses with HOST_NO_SPACE naming the datastore, what is needed and what is free, before
 * anything is written.
 */
export async function requireSpace(ctx: HostContext, dir: string, neededBytes: number, what: string): Promise<void> {
  const ds = datastoreOf(ctx, dir);
  // a target outside the datastores (an export directory) does not exist yet: its parent's file system
  const info = ds === undefined ? await datastoreInfo(ctx, dirname(dir), dirname(dir)) : await datastoreInfo(ctx, ds.name, ds.path);
  const need = neededBytes + SPACE_MARGIN_BYTES;
  if (info.freeBytes < need) {
    ctx.events.post('vm.crypto.noDiskSpace', `${what}: datastore ${info.name} needs ${need} bytes free, ${info.freeBytes} free`, { location: info.name });
    throw new HostError('HOST_NO_SPACE', `${what} needs ${need} bytes free on datastore ${info.name}; ${info.freeBytes} bytes are free (nothing was changed)`);
  }
}
