import { readFile, stat } from 'node:fs/promises';
import { VmcryptError } from '../../../errors.js';
import { seg } from '../../manager-client/client.js';
import type { TaskInfo, TaskRef } from '../../manager-client/records.js';
import { findVm } from '../../manager-client/resolve.js';
import { readProfile } from '../../profile-file.js';
import type { Verb, VerbContext } from '../../verbs/verb.js';

/** The destination manager as the API takes it: URL, pinned thumbprint, a token of a user there. */
export interface PeerManager {
  readonly url: string;
  readonly thumbprint: string;
  readonly token: string;
}

/** The flags naming another manager: a profile file of it (vmcrypt login / lab), or its URL with thumbprint and token. */
export const PEER_OPTIONS = {
  manager: { type: 'string' }, 'manager-thumbprint': { type: 'string' }, 'manager-token-file': { type: 'string' },
} as const;

export const PEER_DETAILS = [
  '--manager names the destination manager (cross-vCenter): a profile file of it (what vmcrypt login or lab up wrote, e.g.',
  'lab/profile-manager-2.json), or its https:// URL with --manager-thumbprint HEX (its certificate, pinned) and',
  '--manager-token-file FILE (a token of a user there; VMCRYPT_MANAGER_TOKEN also works). --host and --datastore are then',
  'names in that manager\'s inventory. Both managers must share the key provider of the VM\'s keys.',
];

/** Reads the destination manager from the flags, or undefined when --manager is absent. */
export async function peerFrom(ctx: VerbContext): Promise<PeerManager | undefined> {
  const ref = ctx.str('manager');
  if (ref === undefined) return undefined;
  if (!ref.startsWith('https://')) {
    const isFile = await stat(ref).then((s) => s.isFile(), () => false);
    if (!isFile) throw ctx.usageError(`--manager ${ref}: neither a profile file nor an https:// URL`);
    const p = await readProfile(ref);
    return { url: p.managerUrl, thumbprint: p.thumbprint, token: p.token };
  }
  const thumbprint = ctx.str('manager-thumbprint')?.replace(/:/g, '').toLowerCase();
  if (thumbprint === undefined || !/^[0-9a-f]{64}$/.test(thumbprint)) throw ctx.usageError('--manager URL needs --manager-thumbprint (the SHA-256 of its certificate, 64 hex digits)');
  const file = ctx.str('manager-token-file');
  const token = (file === undefined ? process.env.VMCRYPT_MANAGER_TOKEN : (await readFile(file, 'utf8')).slice(0, 1024))?.trim();
  if (token === undefined || token === '') throw ctx.usageError('--manager URL needs --manager-token-file FILE (or VMCRYPT_MANAGER_TOKEN): a token of a user of that manager');
  return { url: new URL(ref).origin, thumbprint, token };
}

interface MoveResult { mode?: string; channel?: string; encrypted?: boolean; bytes?: number; mbPerSec?: number; downtimeMs?: number }

function moved(name: string, to: string, r: MoveResult): string {
  const how = r.mode === 'live'
    ? `live, ${r.encrypted === true ? 'encrypted' : 'NOT encrypted'} over ${r.channel ?? '?'}, ${((r.bytes ?? 0) / 1048576).toFixed(0)} MiB at ${(r.mbPerSec ?? 0).toFixed(1)} MB/s, downtime ${r.downtimeMs ?? 0} ms`
    : r.mode === 'cold' ? 'powered off: re-registered' : 'storage migration';
  return `moved ${name} to ${to} (${how})`;
}

export const vmMove: Verb = {
  words: ['move'],
  summary: 'Migrate a VM (vMotion): to another host, another datastore, or another manager; encrypted per its migrateEncryption',
  usage: 'VM [--host HOST] [--datastore DS] [--manager PROFILE|URL [--manager-thumbprint HEX] [--manager-token-file FILE]]',
  task: true,
  options: { host: { type: 'string' }, datastore: { type: 'string' }, ...PEER_OPTIONS },
  details: [
    'A running VM moves live through a datastore both hosts mount; a powered-off one is re-registered; --datastore alone',
    'moves its files (storage migration). Encrypted VMs always migrate encrypted (a one-time key per migration);',
    'others follow vmcrypt vm set VM --migrate-encryption disabled|opportunistic|required.',
    ...PEER_DETAILS,
  ],
  examples: [
    'vmcrypt vm move web-01 --host esx2',
    'vmcrypt vm move web-01 --datastore shared2',
    'vmcrypt vm move web-01 --host host-3 --manager lab/profile-manager-2.json --json',
  ],
  async run(ctx) {
    const host = ctx.str('host');
    const datastore = ctx.str('datastore');
    const manager = await peerFrom(ctx);
    if (host === undefined && datastore === undefined) throw ctx.usageError('give --host, --datastore or both');
    if (manager !== undefined && host === undefined) throw ctx.usageError('--manager needs --host (a host of that manager)');
    const c = await ctx.client();
    const vm = await findVm(c, ctx.arg(0, 'VM'));
    const t = await c.post<TaskRef>(`/api/vms/${seg(vm.id)}/migrate`, {
      ...(host === undefined ? {} : { host }), ...(datastore === undefined ? {} : { datastore }), ...(manager === undefined ? {} : { manager }),
    });
    const done: TaskInfo | undefined = await ctx.follow(t, `move ${vm.name}`);
    if (done === undefined) return 0;
    const to = [manager === undefined ? undefined : `manager ${manager.url}`, host === undefined ? undefined : `host ${host}`, datastore === undefined ? undefined : `datastore ${datastore}`].filter((x) => x !== undefined).join(', ');
    // --json: the final task as the manager has it (bytes, rate, last message, result with the downtime)
    ctx.emit({ task: done.id, ...done, result: done.result ?? null }, () => [moved(vm.name, to, (done.result ?? {}) as MoveResult)]);
    return 0;
  },
};

const MODES = ['disabled', 'opportunistic', 'required'] as const;

export const vmSet: Verb = {
  words: ['set'],
  summary: 'Change a VM setting: --migrate-encryption disabled|opportunistic|required (encrypted vMotion)',
  usage: 'VM --migrate-encryption MODE',
  options: { 'migrate-encryption': { type: 'string' } },
  details: ['opportunistic (default): encrypted when both hosts can, else plain with a warning event; required: refused when either cannot; encrypted VMs always migrate encrypted.'],
  examples: ['vmcrypt vm set web-01 --migrate-encryption required'],
  async run(ctx) {
    const mode = ctx.str('migrate-encryption');
    if (mode === undefined) throw ctx.usageError('nothing to set: give --migrate-encryption MODE');
    if (!(MODES as readonly string[]).includes(mode)) throw ctx.usageError(`--migrate-encryption is one of ${MODES.join(', ')}`);
    const c = await ctx.client();
    const vm = await findVm(c, ctx.arg(0, 'VM'));
    const after = await c.post<Record<string, unknown>>(`/api/vms/${seg(vm.id)}/settings`, { migrateEncryption: mode });
    if (after['migrateEncryption'] !== mode) throw new VmcryptError('MANAGER_RESPONSE_INVALID', 'the manager did not take the setting');
    ctx.emit(after, () => [`VM ${vm.name}: migrateEncryption ${mode}`]);
    return 0;
  },
};
