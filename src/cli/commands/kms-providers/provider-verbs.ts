import type { ManagerClient } from '../../manager-client/client.js';
import { seg } from '../../manager-client/client.js';
import type { KeyProviderInfo, ProviderHealth } from '../../manager-client/records.js';
import { findProvider, listProviders } from '../../manager-client/resolve.js';
import { formatTable } from '../../output/table.js';
import type { Verb } from '../../verbs/verb.js';

export const kmsList: Verb = {
  words: ['list'],
  summary: 'Key providers (KMS clusters): default, ordered key servers, last health',
  usage: '',
  examples: ['vmcrypt kms list', 'vmcrypt kms list --json'],
  async run(ctx) {
    const ps = await listProviders(await ctx.client());
    ctx.emit(ps, () => formatTable(ps, [
      { title: 'provider', cell: (p) => p.id },
      { title: 'default', cell: (p) => (p.isDefault ? 'yes' : '') },
      { title: 'servers', cell: (p) => p.servers.map((s) => `${s.name ?? '?'}=${s.host ?? '?'}:${s.port ?? '?'}`).join(',') },
      { title: 'health', cell: (p) => p.health?.color },
      { title: 'trust', cell: (p) => `${p.trust?.trustedServerCerts.length ?? 0} KMS cert(s), client ${p.trust?.clientIdentity?.source ?? 'none'}` },
    ]));
    return 0;
  },
};

/** `name=host:port` or `host:port` (named kmsN by its position). */
function parseServer(text: string, index: number): { name: string; host: string; port: number } | undefined {
  const m = /^(?:([A-Za-z0-9][A-Za-z0-9._-]{0,63})=)?([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(text);
  if (m === null) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { name: m[1] ?? `kms${index + 1}`, host: (m[2] ?? '').replace(/^\[|\]$/g, ''), port };
}

export const kmsAdd: Verb = {
  words: ['add'],
  summary: 'Add a key provider with its key servers in failover order (the first provider becomes the default)',
  usage: 'PROVIDER --server [NAME=]HOST:PORT… [--default]',
  options: { server: { type: 'string', multiple: true }, default: { type: 'boolean' } },
  details: ['Then establish trust: vmcrypt kms trust PROVIDER --kms-cert ca.pem --client-cert c.pem --client-key c.key'],
  examples: [
    'vmcrypt kms add kp1 --server kms1=127.0.0.1:5696',
    'vmcrypt kms add kp2 --server a=kms-a.lab:5696 --server b=kms-b.lab:5696 --default',
  ],
  async run(ctx) {
    const name = ctx.arg(0, 'PROVIDER');
    const texts = ctx.list('server');
    if (texts.length === 0) throw ctx.usageError('give at least one --server [NAME=]HOST:PORT');
    const servers = texts.map((t, i) => {
      const s = parseServer(t, i);
      if (s === undefined) throw ctx.usageError(`--server ${t}: expected [NAME=]HOST:PORT`);
      return s;
    });
    const c = await ctx.client();
    const p = await c.post<KeyProviderInfo>('/api/key-providers', { name, servers, ...(ctx.bool('default') ? { default: true } : {}) });
    ctx.emit(p, () => [`added key provider ${p.id}${p.isDefault ? ' (default)' : ''} with ${p.servers.length} key server(s); next: vmcrypt kms trust ${p.id} --help`]);
    return 0;
  },
};

export const kmsRemove: Verb = {
  words: ['remove'],
  summary: 'Remove a key provider (refused while inventory objects use its keys)',
  usage: 'PROVIDER',
  examples: ['vmcrypt kms remove kp-old'],
  async run(ctx) {
    const c = await ctx.client();
    const p = await findProvider(c, ctx.arg(0, 'PROVIDER'));
    await c.delete(`/api/key-providers/${seg(p.id)}`);
    ctx.emit({ removed: p.id }, () => [`removed key provider ${p.id}`]);
    return 0;
  },
};

export const kmsDefault: Verb = {
  words: ['default'],
  summary: 'Make a key provider the default (new encryption uses it unless a policy names another)',
  usage: 'PROVIDER',
  examples: ['vmcrypt kms default kp2'],
  async run(ctx) {
    const c = await ctx.client();
    const p = await findProvider(c, ctx.arg(0, 'PROVIDER'));
    const after = await c.post<KeyProviderInfo>(`/api/key-providers/${seg(p.id)}/default`);
    ctx.emit(after, () => [`${after.id} is the default key provider`]);
    return 0;
  },
};

async function health(c: ManagerClient, id: string): Promise<ProviderHealth> {
  return c.post<ProviderHealth>(`/api/key-providers/${seg(id)}/health`);
}

export const kmsStatus: Verb = {
  words: ['status'],
  summary: 'Check every key server now: status, latency, KMIP versions, certificate expiry',
  usage: '[PROVIDER]',
  examples: ['vmcrypt kms status', 'vmcrypt kms status kp1 --json'],
  async run(ctx) {
    const c = await ctx.client();
    const ref = ctx.positionals[0];
    const ids = ref === undefined ? (await listProviders(c)).map((p) => p.id) : [(await findProvider(c, ref)).id];
    const all = await Promise.all(ids.map((id) => health(c, id)));
    const rows = all.flatMap((h) => h.servers.map((s) => ({ provider: h.provider, color: h.color, ...s })));
    ctx.emit(all, () => formatTable(rows, [
      { title: 'provider', cell: (r) => `${r.provider} (${r.color})` },
      { title: 'server', cell: (r) => r.name ?? r.server },
      { title: 'status', cell: (r) => r.status },
      { title: 'latency', cell: (r) => (r.latencyMs === undefined ? undefined : `${r.latencyMs.toFixed(1)} ms`) },
      { title: 'kmip', cell: (r) => r.versions?.join(',') },
      { title: 'cert expires', cell: (r) => (r.certificate?.daysLeft === undefined ? undefined : `${r.certificate.daysLeft} days`) },
      { title: 'error', cell: (r) => r.error?.message },
    ]));
    return all.every((h) => h.color !== 'red') ? 0 : 1;
  },
};
