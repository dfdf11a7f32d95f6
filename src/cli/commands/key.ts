import type { KeyStatus } from '../../manager/keys/index.js';
import type { CommandGroup } from '../command.js';
import { seg, type ManagerClient } from '../manager-client/client.js';
import { listProviders } from '../manager-client/resolve.js';
import { formatFields, formatTable } from '../output/table.js';
import type { Verb, VerbContext } from '../verbs/verb.js';
import { verbGroup } from '../verbs/verb-group.js';
import { groupSummary } from './summaries.js';

/** `/api/keys/PROVIDER/KEYID` of the KEYID argument; PROVIDER is --provider, else the default key provider. */
async function keyPath(ctx: VerbContext): Promise<{ c: ManagerClient; path: string }> {
  const keyId = ctx.arg(0, 'KEYID');
  const c = await ctx.client();
  let provider = ctx.str('provider');
  if (provider === undefined) {
    const ps = await listProviders(c);
    provider = (ps.find((x) => x.isDefault) ?? ps[0])?.id;
    if (provider === undefined) throw ctx.usageError('no key provider on the manager: give --provider');
  }
  return { c, path: `/api/keys/${seg(provider)}/${seg(keyId)}` };
}

const keyStatus: Verb = {
  words: ['status'],
  summary: 'QueryCryptoKeyStatus: is the key in the KMS, its state, on which hosts, who uses it',
  usage: 'KEYID [--provider PROVIDER]',
  options: { provider: { type: 'string' } },
  examples: ['vmcrypt key status 6f1c…', "vmcrypt key status $(vmcrypt vm info web-01 --json | jq -r .keyId)"],
  async run(ctx) {
    const { c, path } = await keyPath(ctx);
    const s = await c.get<KeyStatus>(`${path}/status`);
    ctx.emit(s, () => [
      ...formatFields([
        ['key', `${s.key.keyId} (${s.key.providerId})`],
        ['provider', s.providerKnown ? (s.providerReachable === true ? 'reachable' : 'UNREACHABLE') : 'unknown to this manager'],
        ['in the KMS', s.presentInKms === null ? 'unknown (provider not answering)' : s.presentInKms ? `yes, ${s.state ?? '?'}` : 'NO (missing)'],
        ['made by this manager', s.managedByThisManager === undefined ? undefined : s.managedByThisManager ? 'yes' : 'no'],
        ['error', s.error],
        ['on hosts', s.hosts.map((h) => `${h.name}${h.present === null ? ' (host not answering)' : h.present ? '' : ' (not in cache)'}`).join(', ') || 'none'],
        ['used by', s.usedBy.map((u) => `${u.entity.kind} ${u.name} (${u.part})`).join(', ') || 'nothing'],
      ]),
    ]);
    return 0;
  },
};

const keyEntities: Verb = {
  words: ['entities'],
  summary: 'Which inventory objects (VMs, disks, hosts) use a key',
  usage: 'KEYID [--provider PROVIDER]',
  options: { provider: { type: 'string' } },
  examples: ['vmcrypt key entities 6f1c…', 'vmcrypt key entities 6f1c… --provider kp1 --json'],
  async run(ctx) {
    const { c, path } = await keyPath(ctx);
    const r = await c.get<{ entities: KeyStatus['usedBy'] }>(`${path}/entities`);
    ctx.emit(r.entities, () => formatTable(r.entities, [
      { title: 'kind', cell: (e) => e.entity.kind },
      { title: 'name', cell: (e) => e.name },
      { title: 'part', cell: (e) => e.part },
      { title: 'id', cell: (e) => e.entity.id },
    ]));
    return 0;
  },
};

export const keyCommands: CommandGroup = verbGroup({ name: 'key', summary: groupSummary('key'), verbs: [keyStatus, keyEntities] });
