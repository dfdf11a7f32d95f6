import { seg, type ManagerClient } from '../../manager-client/client.js';
import type { TaskInfo, TaskRef } from '../../manager-client/records.js';
import { findDatastore, findHost, findPolicy, findVm } from '../../manager-client/resolve.js';
import type { Verb, VerbContext } from '../../verbs/verb.js';
import { PEER_DETAILS, PEER_OPTIONS, peerFrom } from './vm-move.js';

interface Placement {
  readonly hostId?: string;
  readonly datastoreId?: string;
  readonly policyId?: string;
}

async function placement(ctx: VerbContext, c: ManagerClient): Promise<Placement> {
  const host = ctx.str('host');
  const ds = ctx.str('datastore');
  const policy = ctx.str('policy');
  return {
    ...(host === undefined ? {} : { hostId: (await findHost(c, host)).id }),
    ...(ds === undefined ? {} : { datastoreId: (await findDatastore(c, ds)).id }),
    ...(policy === undefined ? {} : { policyId: (await findPolicy(c, policy)).id }),
  };
}

/** Follows the task; prints what it made (the new VM's id when the task names it). */
async function finish(ctx: VerbContext, t: TaskRef, label: string, made: string): Promise<number> {
  const done: TaskInfo | undefined = await ctx.follow(t, label);
  if (done === undefined) return 0;
  const result = (done.result ?? {}) as { vmId?: string; path?: string };
  ctx.emit({ task: done.id, state: done.state, result: done.result ?? null }, () => [`${made}${result.vmId === undefined ? '' : ` (VM id ${result.vmId})`}${result.path === undefined ? '' : ` at ${result.path}`}`]);
  return 0;
}

const PLACE = { host: { type: 'string' }, datastore: { type: 'string' }, policy: { type: 'string' } } as const;

export const vmClone: Verb = {
  words: ['clone'],
  summary: 'Clone a VM: keep its encryption, or --policy to encrypt/decrypt the copy, or --recrypt shallow|deep',
  usage: 'VM NAME [--host HOST] [--datastore DS] [--policy POLICY] [--recrypt shallow|deep] [--manager PROFILE|URL …]',
  task: true,
  options: { ...PLACE, recrypt: { type: 'string' }, ...PEER_OPTIONS },
  details: ['With --manager the copy is made here on the VM\'s (or --datastore\'s) shared datastore, then moves to that manager\'s --host.', ...PEER_DETAILS],
  examples: [
    'vmcrypt vm clone web-01 web-02',
    'vmcrypt vm clone web-01 web-03 --recrypt deep',
    'vmcrypt vm clone web-01 web-plain --policy "Datastore Default"',
    'vmcrypt vm clone web-01 web-04 --host esx2 --datastore shared1',
    'vmcrypt vm clone web-01 web-05 --recrypt shallow --host host-3 --manager lab/profile-manager-2.json',
  ],
  async run(ctx) {
    const recrypt = ctx.str('recrypt');
    if (recrypt !== undefined && recrypt !== 'shallow' && recrypt !== 'deep') throw ctx.usageError('--recrypt is shallow or deep');
    const c = await ctx.client();
    const vm = await findVm(c, ctx.arg(0, 'VM'));
    const name = ctx.arg(1, 'NAME');
    const manager = await peerFrom(ctx);
    if (manager !== undefined) {
      const host = ctx.str('host');
      if (host === undefined) throw ctx.usageError('--manager needs --host (a host of that manager)');
      const ds = ctx.str('datastore');
      const policy = ctx.str('policy');
      const local = {
        ...(ds === undefined ? {} : { datastoreId: (await findDatastore(c, ds)).id }), ...(policy === undefined ? {} : { policyId: (await findPolicy(c, policy)).id }),
      };
      const t = await c.post<TaskRef>(`/api/vms/${seg(vm.id)}/clone`, { name, ...local, host, manager, ...(recrypt === undefined ? {} : { recrypt }) });
      return finish(ctx, t, `clone ${vm.name} to ${manager.url}`, `cloned ${vm.name} to ${name} on manager ${manager.url}`);
    }
    const t = await c.post<TaskRef>(`/api/vms/${seg(vm.id)}/clone`, { name, ...(await placement(ctx, c)), ...(recrypt === undefined ? {} : { recrypt }) });
    return finish(ctx, t, `clone ${vm.name}`, `cloned ${vm.name} to ${name}`);
  },
};

export const vmInstantClone: Verb = {
  words: ['instant-clone'],
  summary: "Instant clone: the child runs on the parent's disks and keys; neither may be rekeyed or decrypted afterwards",
  usage: 'VM NAME',
  task: true,
  examples: ['vmcrypt vm instant-clone web-01 web-ic1'],
  async run(ctx) {
    const c = await ctx.client();
    const vm = await findVm(c, ctx.arg(0, 'VM'));
    const name = ctx.arg(1, 'NAME');
    const t = await c.post<TaskRef>(`/api/vms/${seg(vm.id)}/instant-clone`, { name });
    return finish(ctx, t, `instant-clone ${vm.name}`, `instant clone ${name} of ${vm.name} made`);
  },
};

export const vmExport: Verb = {
  words: ['export'],
  summary: 'Backup export: an unencrypted copy through the host (an encrypted VM needs Cryptographer.Decrypt; OVF refused)',
  usage: 'VM NAME [--format backup|ovf] [--datastore DS]',
  task: true,
  options: { format: { type: 'string' }, datastore: { type: 'string' } },
  examples: ['vmcrypt vm export web-01 web-01-backup', 'vmcrypt vm export web-01 web-01-bk --datastore shared1 --json'],
  async run(ctx) {
    const format = ctx.str('format');
    if (format !== undefined && format !== 'backup' && format !== 'ovf') throw ctx.usageError('--format is backup or ovf');
    const c = await ctx.client();
    const vm = await findVm(c, ctx.arg(0, 'VM'));
    const name = ctx.arg(1, 'NAME');
    const ds = ctx.str('datastore');
    const t = await c.post<TaskRef>(`/api/vms/${seg(vm.id)}/export`, {
      name, ...(format === undefined ? {} : { format }), ...(ds === undefined ? {} : { datastoreId: (await findDatastore(c, ds)).id }),
    });
    return finish(ctx, t, `export ${vm.name}`, `exported ${vm.name} as ${name}`);
  },
};

export const vmRestore: Verb = {
  words: ['restore'],
  summary: 'Restore a backup export as a new VM that follows the target policy',
  usage: 'FROM NAME --host HOST --datastore DS [--policy POLICY]',
  task: true,
  options: { ...PLACE },
  details: ['FROM is what vm export made (the path its task reported).'],
  examples: ['vmcrypt vm restore /data/esx1/web-01-backup web-01r --host esx1 --datastore esx1-local --policy "VM Encryption Policy"'],
  async run(ctx) {
    const from = ctx.arg(0, 'FROM');
    const name = ctx.arg(1, 'NAME');
    if (ctx.str('host') === undefined || ctx.str('datastore') === undefined) throw ctx.usageError('restore needs --host and --datastore');
    const c = await ctx.client();
    const t = await c.post<TaskRef>('/api/vms/restore', { from, name, ...(await placement(ctx, c)) });
    return finish(ctx, t, `restore ${name}`, `restored ${name} from ${from}`);
  },
};
