import type { CommandGroup } from '../command.js';
import { seg } from '../manager-client/client.js';
import type { ClusterInfo } from '../manager-client/records.js';
import { findCluster, listClusters, listHosts } from '../manager-client/resolve.js';
import { formatTable } from '../output/table.js';
import type { Verb } from '../verbs/verb.js';
import { verbGroup } from '../verbs/verb-group.js';
import { groupSummary } from './summaries.js';

const clusterList: Verb = {
  words: ['list'],
  summary: 'Clusters with HA and their hosts',
  usage: '',
  examples: ['vmcrypt cluster list', 'vmcrypt cluster list --json'],
  async run(ctx) {
    const c = await ctx.client();
    const [clusters, hosts] = await Promise.all([listClusters(c), listHosts(c)]);
    const rows = clusters.map((x) => ({ ...x, hosts: hosts.filter((h) => h.clusterId === x.id).map((h) => h.name) }));
    ctx.emit(rows, () => formatTable(rows, [
      { title: 'name', cell: (x) => x.name },
      { title: 'ha', cell: (x) => (x.ha ? 'on' : 'off') },
      { title: 'hosts', cell: (x) => x.hosts.join(',') },
      { title: 'id', cell: (x) => x.id },
    ]));
    return 0;
  },
};

const clusterCreate: Verb = {
  words: ['create'],
  summary: 'Create a cluster (--ha: VM keys go to every host of the cluster)',
  usage: 'NAME [--ha]',
  options: { ha: { type: 'boolean' } },
  examples: ['vmcrypt cluster create prod --ha', 'vmcrypt cluster create test'],
  async run(ctx) {
    const c = await ctx.client();
    const x = await c.post<ClusterInfo>('/api/clusters', { name: ctx.arg(0, 'NAME'), ha: ctx.bool('ha') });
    ctx.emit(x, () => [`created cluster ${x.name} (${x.id}), HA ${x.ha ? 'on' : 'off'}`]);
    return 0;
  },
};

const clusterSet: Verb = {
  words: ['set'],
  summary: 'Turn vSphere HA on or off (on: the keys of every VM go to every host of the cluster)',
  usage: 'CLUSTER --ha on|off',
  options: { ha: { type: 'string' } },
  examples: ['vmcrypt cluster set prod --ha on', 'vmcrypt cluster set prod --ha off'],
  async run(ctx) {
    const ha = ctx.str('ha');
    if (ha !== 'on' && ha !== 'off' && ha !== 'true' && ha !== 'false') throw ctx.usageError('--ha is on or off');
    const c = await ctx.client();
    const cl = await findCluster(c, ctx.arg(0, 'CLUSTER'));
    const x = await c.post<ClusterInfo>(`/api/clusters/${seg(cl.id)}/ha`, { ha: ha === 'on' || ha === 'true' });
    ctx.emit(x, () => [`cluster ${x.name}: HA ${x.ha ? 'on' : 'off'}`]);
    return 0;
  },
};

export const clusterCommands: CommandGroup = verbGroup({
  name: 'cluster', summary: groupSummary('cluster'), verbs: [clusterList, clusterCreate, clusterSet],
});
