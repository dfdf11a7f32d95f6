import { inPlaceNeedBytes, requireSpace } from '../datastores.js';
import { unfinishedInPlace, type InPlaceOp, type InPlacePending } from '../vm-files/in-place-record.js';
import { readVmx, type VmxDocument } from '../vm-files/vmx.js';
import { runInPlace, type InPlaceProgress, type InPlaceRequest } from './in-place.js';
import type { HostContext, OpenVm } from './vm-open.js';

/** What GET /v1/vms/{uuid} shows of an unfinished (or running) in-place operation. */
export interface InPlaceView {
  readonly op: InPlaceOp;
  readonly startedAt: string;
  readonly keyId?: string;
  readonly disks: readonly number[];
  /** Set while this agent is converting: the disk and the durable position of the engine's walk. */
  readonly progress?: {
    readonly disk: number; readonly rank: number; readonly disks: number;
    readonly doneBytes: number; readonly totalBytes: number; readonly position?: number; readonly direction?: 'down' | 'up';
  };
}

/**
 * The host agent's side of in-place operations: whether a request goes in place (asked for,
 * or an unfinished one of the VM to finish), the smaller space check, live progress per VM,
 * and the guard that keeps a half-converted VM from powering on or changing otherwise.
 */
export class InPlaceOps {
  readonly #ctx: HostContext;
  readonly #progress = new Map<string, InPlaceProgress>();

  constructor(ctx: HostContext) {
    this.#ctx = ctx;
  }

  /** In place when asked, and always while the VM has an unfinished in-place operation (only its rerun is accepted). */
  wanted(vm: OpenVm, asked: boolean | undefined): boolean {
    return asked === true || vm.doc.inPlace !== undefined;
  }

  async run(vm: OpenVm, req: InPlaceRequest, what: string): Promise<void> {
    const count = req.disk !== undefined ? 1 : vm.config.disks.length;
    if (vm.doc.inPlace === undefined) await requireSpace(this.#ctx, vm.dir, inPlaceNeedBytes(count), `${what} in place`);
    try {
      await runInPlace(vm, this.#ctx.cache, req, { faults: this.#ctx.faults, onProgress: (p) => this.#progress.set(vm.uuid, p) });
    } finally {
      this.#progress.delete(vm.uuid);
    }
  }

  /** HOST_CONFLICT naming the rerun when the VM is half-converted. */
  refuse(doc: VmxDocument, what: string): void {
    if (doc.inPlace !== undefined) throw unfinishedInPlace(doc.inPlace, doc.uuid, doc.name, what);
  }

  async refuseAt(vmx: string, what: string): Promise<void> {
    this.refuse(await readVmx(vmx), what);
  }

  view(uuid: string, pending: InPlacePending | undefined): { inPlace?: InPlaceView } {
    if (pending === undefined) return {};
    const p = this.#progress.get(uuid);
    const progress = p === undefined ? {} : {
      progress: {
        disk: p.disk, rank: p.rank, disks: p.disks, doneBytes: p.doneBytes, totalBytes: p.totalBytes,
        ...(p.position === undefined ? {} : { position: p.position }), ...(p.direction === undefined ? {} : { direction: p.direction }),
      },
    };
    return {
      inPlace: {
        op: pending.op, startedAt: pending.startedAt, disks: pending.disks.map((d) => d.disk),
        ...(pending.key === undefined ? {} : { keyId: pending.key.keyId }), ...progress,
      },
    };
  }
}
