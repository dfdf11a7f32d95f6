import type { HostInfo, TaskInfo, VmInfo } from '../../manager-client/records.js';
import { findDatastore, findHost, findPolicy, findVm, listDatastores, listHosts, listVms } from '../../manager-client/resolve.js';
import { formatFields, formatTable } from '../../output/table.js';
import { parseSize } from '../../output/sizes.js';
import type { Verb } from '../../verbs/verb.js';
import { vmEncryptionInfo, type ManagerEncryptionInfo } from './encryption-info.js';
import { seg } from '../../manager-client/client.js';
import { formatBytes } from '../../../disk/units.js';

function hostName(hosts: readonly HostInfo[], id: string): string {
  return hosts.find((h) => h.id === id)?.name ?? id;
}

export const vmList: Verb = {
  words: ['list'],
  summary: 'List VMs with their host, power, encryption, lock state, policy and compliance',
  usage: '[--host HOST]',
  options: { host: { type: 'string' } },
  examples: ['vmcrypt vm list', 'vmcrypt vm list --host esx1', "vmcrypt vm list --json | jq '.[] | select(.observed.locked)'"],
  async run(ctx) {
    const c = await ctx.client();
    const [vms, hosts] = await Promise.all([listVms(c), listHosts(c)]);
    const hostRef = ctx.str('host');
    const host = hostRef === undefined ? undefined : hosts.find((h) => h.id === hostRef || h.name === hostRef);
    if (hostRef !== undefined && host === undefined) throw ctx.usageError(`no host '${hostRef}' (vmcrypt host list)`);
    const shown = host === undefined ? vms : vms.filter((v) => v.hostId === host.id);
    ctx.emit(shown, () => formatTable(shown, [
      { title: 'name', cell: (v) => v.name },
      { title: 'host', cell: (v) => hostName(hosts, v.hostId) },
      { title: 'power', cell: (v) => v.observed.powerState },
      { title: 'encrypted', cell: (v) => (v.observed.encrypted ? 'yes' : 'no') },
      { title: 'locked', cell: (v) => (v.observed.locked ? 'LOCKED' : 'no') },
      { title: 'policy', cell: (v) => v.desired.policyName },
      { title: 'compliance', cell: (v) => v.compliance.status },
      { title: 'id', cell: (v) => v.id },
    ]));
    return 0;
  },
};

export const vmInfo: Verb = {
  words: ['info'],
  summary: 'Encryption info of a VM (Get-VMEncryptionInfo): host, policy, compliance, lock, provider, key id, disks and layers',
  usage: 'VM',
  examples: ['vmcrypt vm info web-01', 'vmcrypt vm info web-01 --json | jq -r .keyId'],
  async run(ctx) {
    const c = await ctx.client();
    const vm = await findVm(c, ctx.arg(0, 'VM'));
    const [hosts, enc] = await Promise.all([listHosts(c), c.get<ManagerEncryptionInfo>(`/api/vms/${seg(vm.id)}/encryption`)]);
    const info = vmEncryptionInfo(vm, enc, hosts.find((h) => h.id === vm.hostId));
    ctx.emit(info, () => [
      ...formatFields([
        ['vm', `${info.vm.name} (${info.vm.id})`],
        ['host', `${info.host.name ?? '?'} (${info.host.id})`],
        ['power', info.powerState],
        ['policy', `${info.policy.name}${info.policy.encryption ? ' (encryption)' : ''}`],
        ['compliance', `${info.compliance}${info.complianceReason === null ? '' : `: ${info.complianceReason}`}`],
        ['encrypted', info.encrypted ? 'yes' : 'no'],
        ['locked', info.locked ? `LOCKED${info.lockReason === null ? '' : `: ${info.lockReason}`}` : 'no'],
        ['key provider', info.provider ?? undefined],
        ['key id', `${info.keyId ?? '-'}${info.mixedKeys ? ' (disks use other keys too)' : ''}`],
        ...(info.operation === null ? [] : [['operation', `${info.operation.kind ?? '?'} ${info.operation.state ?? ''} ${info.operation.step ?? ''}`.trim()] as const]),
      ]),
      'disks:',
      ...(info.disks.length === 0 ? ['  (none)'] : info.disks.flatMap((d) => [
        `  ${d.id}${d.sizeBytes === null ? '' : ` (${formatBytes(d.sizeBytes)})`}: ${d.encrypted ? 'encrypted' : 'not encrypted'}`,
        ...d.layers.map((l) => '    ' + `layer ${l.index} ${l.file ?? ''} ${l.format ?? ''}: ${l.keyId === null ? 'no key' : `key ${l.keyId} (${l.providerId ?? '?'})`}`.replace(/ +/g, ' ')),
      ])),
      ...(info.snapshots.length === 0 ? [] : ['snapshots:', ...info.snapshots.map((s) => `  ${s.name ?? '?'} (${s.id ?? '?'})${s.parentId === undefined ? '' : ` parent ${s.parentId}`}`)]),
    ]);
    return 0;
  },
};

export const vmCreate: Verb = {
  words: ['create'],
  summary: 'Create a VM on a host and datastore; an encryption policy makes it encrypted (a task)',
  usage: 'NAME --host HOST [--datastore DS] [--policy POLICY] [--memory MIB] [--disk SIZE]…',
  task: true,
  options: { host: { type: 'string' }, datastore: { type: 'string' }, policy: { type: 'string' }, memory: { type: 'string' }, disk: { type: 'string', multiple: true } },
  details: ['Without --datastore the host\'s own datastore (HOST-local) is used; --disk may be given several times (64M, 1G…).'],
  examples: [
    'vmcrypt vm create web-01 --host esx1 --disk 1G',
    'vmcrypt vm create db-01 --host esx1 --policy "VM Encryption Policy" --disk 4G --disk 1G --memory 512',
    'vmcrypt vm create ci-01 --host esx2 --datastore shared1 --no-wait --json',
  ],
  async run(ctx) {
    const name = ctx.arg(0, 'NAME');
    const hostRef = ctx.str('host');
    if (hostRef === undefined) throw ctx.usageError('missing --host HOST');
    const memory = ctx.int('memory', 16, 1 << 20);
    const c = await ctx.client();
    const host = await findHost(c, hostRef);
    const dsRef = ctx.str('datastore');
    const ds = dsRef !== undefined ? await findDatastore(c, dsRef) : (await listDatastores(c)).find((d) => d.name === `${host.name}-local`) ?? (await listDatastores(c)).find((d) => d.hosts.some((h) => h.hostId === host.id));
    if (ds === undefined) throw ctx.usageError(`host ${host.name} has no datastore: give --datastore`);
    const policyRef = ctx.str('policy');
    const policy = policyRef === undefined ? undefined : await findPolicy(c, policyRef);
    const sizes = sizesOf(ctx.list('disk'), ctx.usageError);
    const r = await c.post<{ vm: VmInfo; task?: { id: string; state: string } }>('/api/vms', {
      name, hostId: host.id, datastoreId: ds.id,
      ...(policy === undefined ? {} : { policyId: policy.id }),
      ...(memory === undefined ? {} : { memoryMiB: memory }),
      ...(sizes.length === 0 ? {} : { disks: sizes.map((sizeBytes) => ({ sizeBytes })) }),
    });
    const done: TaskInfo | undefined = r.task === undefined ? undefined : await ctx.follow(r.task, `create ${name}`);
    if (r.task !== undefined && done === undefined) return 0;
    // The VM takes its final id (the .vmx uuid) when its create task ends: the task names it.
    const finalId = (done?.result as { vmId?: unknown } | undefined)?.vmId;
    const vm = await c.get<VmInfo>(`/api/vms/${seg(typeof finalId === 'string' ? finalId : r.vm.id)}`);
    ctx.emit(vm, () => [`created VM ${vm.name} (${vm.id}) on ${host.name}, datastore ${ds.name}, policy ${vm.desired.policyName}; ${vm.observed.encrypted ? 'encrypted' : 'not encrypted'}`]);
    return 0;
  },
};

function sizesOf(texts: readonly string[], usageError: (m: string) => Error): number[] {
  return texts.map((t) => {
    const n = parseSize(t);
    if (n === undefined) throw usageError(`--disk ${t}: not a size (e.g. 64M, 1G)`);
    return n;
  });
}
