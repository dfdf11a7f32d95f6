import { VmcryptError } from '../../errors.js';
import type { CommandGroup } from '../command.js';
import { restartLabHost } from '../lab/control.js';
import { seg } from '../manager-client/client.js';
import type { HostInfo } from '../manager-client/records.js';
import { findCluster, findHost, listClusters, listHosts, listVms } from '../manager-client/resolve.js';
import { formatTable } from '../output/table.js';
import { confirm } from '../prompt.js';
import type { Verb } from '../verbs/verb.js';
import { verbGroup } from '../verbs/verb-group.js';
import { hostCommands } from './host.js';
import { groupSummary } from './summaries.js';

const hostList: Verb = {
  words: ['list'],
  summary: 'Hosts in the manager: connection state, crypto mode (incapable/prepared/safe), cluster',
  usage: '',
  examples: ['vmcrypt host list', 'vmcrypt host list --json'],
  async run(ctx) {
    const c = await ctx.client();
    const [hosts, clusters] = await Promise.all([listHosts(c), listClusters(c)]);
    ctx.emit(hosts, () => formatTable(hosts, [
      { title: 'name', cell: (h) => h.name },
      { title: 'state', cell: (h) => h.connectionState },
      { title: 'crypto', cell: (h) => h.cryptoMode },
      { title: 'cluster', cell: (h) => clusters.find((x) => x.id === h.clusterId)?.name ?? h.clusterId },
      { title: 'url', cell: (h) => h.url },
      { title: 'id', cell: (h) => h.id },
    ]));
    return 0;
  },
};

const hostAdd: Verb = {
  words: ['add'],
  summary: "Add a host agent: confirm the certificate it presents, pair with its one-time token",
  usage: 'URL [--pairing-token TOKEN] [--thumbprint SHA256] [--cluster CLUSTER]',
  options: { 'pairing-token': { type: 'string' }, thumbprint: { type: 'string' }, cluster: { type: 'string' } },
  details: ['vmcrypt host serve prints its URL, thumbprint and pairing token; give --thumbprint to confirm without a prompt.'],
  examples: [
    'vmcrypt host add https://127.0.0.1:9501 --pairing-token 0f3c…e1 --thumbprint 5b1e…90',
    'vmcrypt host add https://esx3.lab:9501 --pairing-token 0f3c…e1 --cluster prod',
  ],
  async run(ctx) {
    const url = ctx.arg(0, 'URL');
    const c = await ctx.client();
    const probe = await c.post<{ thumbprint: string }>('/api/hosts/probe', { url });
    const given = ctx.str('thumbprint')?.toLowerCase().replace(/:/g, '');
    if (given !== undefined && given !== probe.thumbprint) {
      throw new VmcryptError('HOST_CERT_MISMATCH', `the host at ${url} presents certificate sha256=${probe.thumbprint}, not the ${given} you gave: do not add it until you know why`);
    }
    if (given === undefined && (ctx.json || !(await confirm(`The host at ${url} presents certificate sha256=${probe.thumbprint}. Add it? [y/N] `)))) {
      throw new VmcryptError('UNTRUSTED_CERTIFICATE', `the host at ${url} presents certificate sha256=${probe.thumbprint}: compare it with what 'vmcrypt host serve' printed, then pass --thumbprint ${probe.thumbprint}`);
    }
    const clusterRef = ctx.str('cluster');
    const token = ctx.str('pairing-token');
    const h = await c.post<HostInfo>('/api/hosts', {
      url, thumbprint: probe.thumbprint,
      ...(token === undefined ? {} : { pairingToken: token }),
      ...(clusterRef === undefined ? {} : { clusterId: (await findCluster(c, clusterRef)).id }),
    });
    ctx.emit(h, () => [`added host ${h.name} (${h.id}): ${h.connectionState}, crypto ${h.cryptoMode}`]);
    return 0;
  },
};

const hostCryptoSafe: Verb = {
  words: ['crypto-safe'],
  summary: 'Make a host (and so its whole cluster) crypto-safe: a host key from the key provider encrypts its core dumps',
  usage: 'HOST [--provider PROVIDER]',
  options: { provider: { type: 'string' } },
  examples: ['vmcrypt host crypto-safe esx1', 'vmcrypt host crypto-safe esx1 --provider kp1 --json'],
  async run(ctx) {
    const c = await ctx.client();
    const host = await findHost(c, ctx.arg(0, 'HOST'));
    const provider = ctx.str('provider');
    const r = await c.post<{ hosts: { hostId: string; hostKey: { providerId: string; keyId: string } }[] }>(`/api/hosts/${seg(host.id)}/crypto-safe`, provider === undefined ? {} : { providerId: provider });
    ctx.emit(r, () => r.hosts.map((h) => `host ${h.hostId}: crypto-safe, host key ${h.hostKey.keyId} (${h.hostKey.providerId})`));
    return 0;
  },
};

const hostRestart: Verb = {
  words: ['restart'],
  summary: "Restart a host agent (lab profiles): its key cache empties, its encrypted VMs lock, then unlock by themselves",
  usage: 'HOST',
  details: [
    'On a lab profile (vmcrypt lab up wrote it) the lab restarts the agent process. The manager has no',
    'remote restart of a real host: restart it there, then vmcrypt host unlock HOST if VMs stay locked.',
  ],
  examples: ['vmcrypt host restart host-1', 'vmcrypt host restart host-1 && vmcrypt vm list'],
  async run(ctx) {
    const name = ctx.arg(0, 'HOST');
    const c = await ctx.client();
    const host = await findHost(c, name);
    const labDir = c.profile.labDir;
    if (labDir === undefined) {
      throw new VmcryptError('NOT_AVAILABLE', `host restart needs a lab profile (vmcrypt lab up writes DIR/profile.json): the manager has no remote restart; restart ${host.name} on the host itself, then vmcrypt host unlock ${host.name}`);
    }
    const r = await restartLabHost(labDir, host.name);
    const locked = (await listVms(c)).filter((v) => v.hostId === host.id && v.observed.locked).map((v) => v.name);
    ctx.emit({ host: host.name, id: host.id, url: r.url, pid: r.pid, lockedVms: locked }, () => [
      `host ${host.name} restarted (pid ${r.pid}); its key cache is empty: the manager pushes the keys again`,
      // The manager sees the restart on its next poll, so 'none locked' right now proves nothing yet.
      locked.length === 0
        ? `the manager notices within seconds; watch: vmcrypt vm list --host ${host.name}, vmcrypt events --type 'vm.*'`
        : `locked now: ${locked.join(', ')} (watch: vmcrypt vm list --host ${host.name})`,
    ]);
    return 0;
  },
};

const hostUnlock: Verb = {
  words: ['unlock'],
  summary: 'Push again every key the host needs (its VMs, its HA cluster, its host key)',
  usage: 'HOST',
  examples: ['vmcrypt host unlock esx1'],
  async run(ctx) {
    const c = await ctx.client();
    const host = await findHost(c, ctx.arg(0, 'HOST'));
    const r = await c.post<{ unlocked: string[]; stillLocked: string[] }>(`/api/hosts/${seg(host.id)}/unlock`);
    ctx.emit(r, () => [`host ${host.name}: ${r.unlocked.length} VM(s) unlocked, ${r.stillLocked.length} still locked${r.stillLocked.length === 0 ? '' : ` (${r.stillLocked.join(', ')}): check vmcrypt kms status`}`]);
    return r.stillLocked.length === 0 ? 0 : 1;
  },
};

/** `vmcrypt host`: the manager's host verbs beside the agent's own (serve, diagnostics, coredumps). */
export const hostGroup: CommandGroup = verbGroup({
  name: 'host',
  summary: groupSummary('host'),
  verbs: [hostList, hostAdd, hostCryptoSafe, hostRestart, hostUnlock],
  fallback: hostCommands,
});
