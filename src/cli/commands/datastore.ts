import type { CommandGroup } from '../command.js';
import type { DatastoreInfo } from '../manager-client/records.js';
import { findHost, listDatastores, listHosts } from '../manager-client/resolve.js';
import { formatTable } from '../output/table.js';
import type { Verb } from '../verbs/verb.js';
import { verbGroup } from '../verbs/verb-group.js';
import { groupSummary } from './summaries.js';

const datastoreList: Verb = {
  words: ['list'],
  summary: 'Datastores and the hosts that mount them (shared = several hosts)',
  usage: '',
  examples: ['vmcrypt datastore list'],
  async run(ctx) {
    const c = await ctx.client();
    const [ds, hosts] = await Promise.all([listDatastores(c), listHosts(c)]);
    ctx.emit(ds, () => formatTable(ds, [
      { title: 'name', cell: (d) => d.name },
      { title: 'hosts', cell: (d) => d.hosts.map((h) => hosts.find((x) => x.id === h.hostId)?.name ?? h.hostId).join(',') },
      { title: 'shared', cell: (d) => (d.shared === true ? 'yes' : 'no') },
      { title: 'path', cell: (d) => d.path },
      { title: 'id', cell: (d) => d.id },
    ]));
    return 0;
  },
};

const datastoreAdd: Verb = {
  words: ['add'],
  summary: 'Mount a directory as a datastore on one or several hosts (same path on several = shared storage)',
  usage: 'NAME PATH --host HOST…',
  options: { host: { type: 'string', multiple: true } },
  examples: ['vmcrypt datastore add shared1 /srv/shared --host esx1 --host esx2'],
  async run(ctx) {
    const hostRefs = ctx.list('host');
    if (hostRefs.length === 0) throw ctx.usageError('give at least one --host');
    const c = await ctx.client();
    const hostIds = [];
    for (const h of hostRefs) hostIds.push((await findHost(c, h)).id);
    const d = await c.post<DatastoreInfo>('/api/datastores', { name: ctx.arg(0, 'NAME'), path: ctx.arg(1, 'PATH'), hostIds });
    ctx.emit(d, () => [`datastore ${d.name} (${d.id}) mounted on ${hostRefs.join(', ')}`]);
    return 0;
  },
};

export const datastoreCommands: CommandGroup = verbGroup({ name: 'datastore', summary: groupSummary('datastore'), verbs: [datastoreList, datastoreAdd] });
