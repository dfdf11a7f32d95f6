import { vmRef, type EventPoster, type HostGateway, type TaskProgress } from '../../contracts.js';

/**
 * In-place mode of encrypt, decrypt, deep rekey and per-disk changes (issue 15): chosen when the
 * datastore cannot hold the copy (or asked for), announced with `vm.crypto.inPlace`, recorded in
 * the operation's spec (`inPlace: true`, so a rerun stays in place), shown in the task (result
 * `mode`, progress from the host's in-place position).
 */
export const IN_PLACE_EVENT = 'vm.crypto.inPlace';

export function postInPlace(events: EventPoster, e: { vmId: string; vmName: string; what: string; asked: boolean; user?: string | undefined }): void {
  events.post({
    type: IN_PLACE_EVENT, severity: e.asked ? 'info' : 'warning', entity: vmRef(e.vmId), ...(e.user === undefined ? {} : { user: e.user }),
    message: e.asked
      ? `${e.what} VM ${e.vmName}: converting in place as asked, the original is not kept`
      : `${e.what} VM ${e.vmName}: no room for a copy: converting in place, the original is not kept`,
    data: { mode: 'in-place', asked: e.asked },
  });
}

/** What the host shows of a running in-place conversion (GET /v1/vms/{uuid} → inPlace.progress). */
interface HostInPlaceProgress {
  disk: number; rank: number; disks: number; doneBytes: number; totalBytes: number; position?: number; direction?: 'down' | 'up';
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined);

export function parseInPlaceProgress(vm: unknown): HostInPlaceProgress | undefined {
  const p = (vm as { inPlace?: { progress?: Record<string, unknown> } } | null)?.inPlace?.progress;
  if (typeof p !== 'object' || p === null) return undefined;
  const [disk, rank, disks, doneBytes, totalBytes] = [p['disk'], p['rank'], p['disks'], p['doneBytes'], p['totalBytes']].map(num);
  if (disk === undefined || rank === undefined || disks === undefined || doneBytes === undefined || totalBytes === undefined) return undefined;
  const position = num(p['position']);
  const direction = p['direction'] === 'down' || p['direction'] === 'up' ? p['direction'] : undefined;
  return { disk, rank, disks, doneBytes, totalBytes, ...(position === undefined ? {} : { position }), ...(direction === undefined ? {} : { direction }) };
}

function mib(n: number): string {
  return `${(n / (1 << 20)).toFixed(1)} MiB`;
}

/** The task's message for a progress report: `in place: disk 1 of 2 at 312.0 MiB ↓`. */
export function inPlaceMessage(p: HostInPlaceProgress): string {
  const arrow = p.direction === 'down' ? ' ↓' : p.direction === 'up' ? ' ↑' : '';
  return `in place: disk ${p.rank + 1} of ${p.disks} at ${mib(p.position ?? p.doneBytes)}${arrow}`;
}

/** Polls the host for the in-place position while `run` runs, into the task's progress. */
export async function withInPlaceProgress<T>(hosts: HostGateway, hostId: () => string, vmId: string, progress: TaskProgress, run: () => Promise<T>, everyMs = 1000): Promise<T> {
  let busy = false;
  const tick = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      const p = parseInPlaceProgress(await hosts.call(hostId(), 'GET', `/v1/vms/${vmId}`));
      if (p !== undefined) {
        // bytes over every disk of the operation: the disks before this one count as whole
        const total = p.totalBytes * p.disks;
        const done = p.totalBytes * p.rank + p.doneBytes;
        progress.update({ bytesDone: done, bytesTotal: total, percent: Math.min(94, 10 + Math.round((84 * done) / Math.max(1, total))), message: inPlaceMessage(p) });
      }
    } catch {
      // progress only: the operation reports its own failure
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), everyMs);
  timer.unref();
  try {
    return await run();
  } finally {
    clearInterval(timer);
  }
}
