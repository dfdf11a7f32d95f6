import type { CommandGroup } from '../command.js';
import type { PolicyInfo } from '../manager-client/records.js';
import { listPolicies } from '../manager-client/resolve.js';
import { formatTable } from '../output/table.js';
import type { Verb } from '../verbs/verb.js';
import { verbGroup } from '../verbs/verb-group.js';
import { groupSummary } from './summaries.js';

const policyList: Verb = {
  words: ['list'],
  summary: 'Storage policies (VM Encryption Policy, Datastore Default and custom ones)',
  usage: '',
  examples: ['vmcrypt policy list', 'vmcrypt policy list --json'],
  async run(ctx) {
    const c = await ctx.client();
    const ps = await listPolicies(c);
    ctx.emit(ps, () => formatTable(ps, [
      { title: 'name', cell: (p) => p.name },
      { title: 'encryption', cell: (p) => (p.encryption ? 'yes' : 'no') },
      { title: 'provider', cell: (p) => p.providerId ?? (p.encryption ? '(default)' : undefined) },
      { title: 'built-in', cell: (p) => (p.builtIn ? 'yes' : 'no') },
      { title: 'id', cell: (p) => p.id },
    ]));
    return 0;
  },
};

const policyCreate: Verb = {
  words: ['create'],
  summary: 'Create a storage policy (an encryption policy needs Cryptographer.ManageEncryptionPolicy)',
  usage: 'NAME [--no-encryption] [--provider PROVIDER]',
  options: { 'no-encryption': { type: 'boolean' }, provider: { type: 'string' } },
  details: ['An encryption policy uses --provider, or the default key provider when none is given.'],
  examples: ['vmcrypt policy create gold-encrypted --provider kp1', 'vmcrypt policy create bronze --no-encryption'],
  async run(ctx) {
    const name = ctx.arg(0, 'NAME');
    const encryption = !ctx.bool('no-encryption');
    const provider = ctx.str('provider');
    if (!encryption && provider !== undefined) throw ctx.usageError('--provider only makes sense for an encryption policy');
    const c = await ctx.client();
    const p = await c.post<PolicyInfo>('/api/policies', { name, encryption, ...(provider === undefined ? {} : { providerId: provider }) });
    ctx.emit(p, () => [`created policy ${p.name} (${p.id})${p.encryption ? `: encryption, provider ${p.providerId ?? 'default'}` : ''}`]);
    return 0;
  },
};

export const policyCommands: CommandGroup = verbGroup({ name: 'policy', summary: groupSummary('policy'), verbs: [policyList, policyCreate] });
