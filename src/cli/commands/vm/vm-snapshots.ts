import { VmcryptError } from '../../../errors.js';
import { seg, type ManagerClient } from '../../manager-client/client.js';
import type { VmInfo } from '../../manager-client/records.js';
import { findVm, pick } from '../../manager-client/resolve.js';
import { formatTable } from '../../output/table.js';
import type { Verb } from '../../verbs/verb.js';

interface Snapshot {
  readonly id: string;
  readonly name: string;
  readonly parentId?: string;
  readonly createdAt?: string;
  readonly layerCount?: number;
}

interface SnapshotTree {
  readonly snapshots: readonly Snapshot[];
  readonly currentSnapshotId?: string;
}

async function tree(c: ManagerClient, vmId: string): Promise<SnapshotTree> {
  return c.get<SnapshotTree>(`/api/vms/${seg(vmId)}/snapshots`);
}

async function findSnapshot(c: ManagerClient, vmId: string, ref: string): Promise<Snapshot> {
  return pick((await tree(c, vmId)).snapshots, ref, 'snapshot', 'vmcrypt vm snapshot list VM');
}

export const snapshotCreate: Verb = {
  words: ['snapshot', 'create'],
  summary: 'Take a disk-only snapshot (each new layer gets its own DEK; memory snapshots are refused for encrypted VMs)',
  usage: 'VM NAME',
  examples: ['vmcrypt vm snapshot create web-01 before-upgrade'],
  async run(ctx) {
    const c = await ctx.client();
    const vm = await findVm(c, ctx.arg(0, 'VM'));
    const s = await c.post<Snapshot>(`/api/vms/${seg(vm.id)}/snapshots`, { name: ctx.arg(1, 'NAME') });
    ctx.emit(s, () => [`snapshot ${s.name} (${s.id}) of VM ${vm.name} taken`]);
    return 0;
  },
};

export const snapshotList: Verb = {
  words: ['snapshot', 'list'],
  summary: "A VM's snapshot tree and the snapshot it runs from",
  usage: 'VM',
  examples: ['vmcrypt vm snapshot list web-01', 'vmcrypt vm snapshot list web-01 --json'],
  async run(ctx) {
    const c = await ctx.client();
    const vm = await findVm(c, ctx.arg(0, 'VM'));
    const t = await tree(c, vm.id);
    const names = new Map(t.snapshots.map((s) => [s.id, s.name]));
    ctx.emit(t, () => formatTable(t.snapshots, [
      { title: 'name', cell: (s) => `${s.name}${s.id === t.currentSnapshotId ? ' (current)' : ''}` },
      { title: 'parent', cell: (s) => (s.parentId === undefined ? undefined : names.get(s.parentId) ?? s.parentId) },
      { title: 'created', cell: (s) => s.createdAt },
      { title: 'id', cell: (s) => s.id },
    ]));
    return 0;
  },
};

function snapshotAction(word: 'revert' | 'remove', summary: string): Verb {
  return {
    words: ['snapshot', word],
    summary,
    usage: 'VM SNAPSHOT',
    examples: [`vmcrypt vm snapshot ${word} web-01 before-upgrade`],
    async run(ctx) {
      const c = await ctx.client();
      const vm = await findVm(c, ctx.arg(0, 'VM'));
      const s = await findSnapshot(c, vm.id, ctx.arg(1, 'SNAPSHOT'));
      const path = `/api/vms/${seg(vm.id)}/snapshots/${seg(s.id)}`;
      const after = word === 'revert' ? await c.post<VmInfo>(`${path}/revert`) : await c.delete<VmInfo>(path);
      if (after === null) throw new VmcryptError('MANAGER_RESPONSE_INVALID', `the manager gave no VM after ${word}`);
      ctx.emit(after, () => [`VM ${vm.name}: ${word === 'revert' ? 'reverted to' : 'removed'} snapshot ${s.name}`]);
      return 0;
    },
  };
}

export const snapshotRevert = snapshotAction('revert', 'Revert to a snapshot (powered off); later snapshots stay');
export const snapshotRemove = snapshotAction('remove', 'Remove a snapshot (powered off), consolidating its layer');
