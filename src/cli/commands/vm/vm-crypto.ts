import { UsageError, VmcryptError } from '../../../errors.js';
import { seg, type ManagerClient } from '../../manager-client/client.js';
import type { PolicyInfo, TaskRef, VmInfo } from '../../manager-client/records.js';
import { findPolicy, findVm, listPolicies } from '../../manager-client/resolve.js';
import type { Verb, VerbContext } from '../../verbs/verb.js';

/** --policy, else the built-in policy of the wanted kind (VM Encryption Policy / Datastore Default). */
async function policyFor(c: ManagerClient, ref: string | undefined, encryption: boolean): Promise<PolicyInfo> {
  if (ref !== undefined) {
    const p = await findPolicy(c, ref);
    if (p.encryption !== encryption) throw new VmcryptError('WRONG_POLICY', `policy ${p.name} ${p.encryption ? 'encrypts' : 'does not encrypt'}: pick one that ${encryption ? 'encrypts' : 'does not'} (vmcrypt policy list)`);
    return p;
  }
  const all = await listPolicies(c);
  const p = all.find((x) => x.builtIn && x.encryption === encryption) ?? all.find((x) => x.encryption === encryption);
  if (p === undefined) throw new VmcryptError('NOT_FOUND', `no ${encryption ? 'encryption' : 'non-encryption'} storage policy on the manager (vmcrypt policy create)`);
  return p;
}

async function afterTask(ctx: VerbContext, c: ManagerClient, vmId: string, task: TaskRef | undefined, label: string, said: (vm: VmInfo) => string): Promise<number> {
  const done = task === undefined ? undefined : await ctx.follow(task, label);
  if (task !== undefined && done === undefined) return 0;
  const vm = await c.get<VmInfo>(`/api/vms/${seg(vmId)}`);
  // the manager says when the disks were converted where they are (asked for, or no room for a copy)
  const where = (done?.result as { mode?: string } | undefined)?.mode === 'in-place' ? ' — disks converted in place' : '';
  ctx.emit(vm, () => [said(vm) + where]);
  return 0;
}

function keyOf(vm: VmInfo): string {
  return vm.observed.keys.find((k) => k.part === 'vm')?.key?.keyId ?? vm.observed.keys[0]?.key?.keyId ?? '-';
}

/** --in-place: convert the disks where they are (no second copy; the original is not kept). */
const IN_PLACE_DETAIL = '--in-place converts every disk where it is: no second copy is needed, the original is not kept (the manager also goes in place by itself when the datastore cannot hold the copy, and says so).';
function inPlace(ctx: VerbContext): { inPlace?: true } {
  return ctx.bool('in-place') ? { inPlace: true } : {};
}

async function changePolicy(ctx: VerbContext, encrypt: boolean): Promise<number> {
  const c = await ctx.client();
  const vm = await findVm(c, ctx.arg(0, 'VM'));
  const policy = await policyFor(c, ctx.str('policy'), encrypt);
  const r = await c.post<{ vm: VmInfo; task?: TaskRef }>(`/api/vms/${seg(vm.id)}/policy`, { policyId: policy.id, ...(ctx.bool('force') ? { force: true } : {}), ...inPlace(ctx) });
  return afterTask(ctx, c, vm.id, r.task, `${encrypt ? 'encrypt' : 'decrypt'} ${vm.name}`, (v) =>
    encrypt ? `VM ${v.name} encrypted (policy ${v.desired.policyName}, key ${keyOf(v)}); ${v.compliance.status}`
      : `VM ${v.name} decrypted (policy ${v.desired.policyName}); ${v.compliance.status}`);
}

export const vmEncrypt: Verb = {
  words: ['encrypt'],
  summary: 'Enable-VMEncryption: give the VM an encryption policy; its home and disks are encrypted (powered off, no snapshots)',
  usage: 'VM [--policy POLICY] [--force] [--in-place]',
  task: true,
  options: { policy: { type: 'string' }, force: { type: 'boolean' }, 'in-place': { type: 'boolean' } },
  details: ['Without --policy the built-in "VM Encryption Policy" (default key provider) is used. --force encrypts a VM', 'marked as hosting the key server or the manager (circular dependency).', IN_PLACE_DETAIL],
  examples: ['vmcrypt vm encrypt web-01', 'vmcrypt vm encrypt web-01 --policy gold-encrypted --no-wait --json', 'vmcrypt vm encrypt web-01 --in-place'],
  run: (ctx) => changePolicy(ctx, true),
};

export const vmDecrypt: Verb = {
  words: ['decrypt'],
  summary: 'Disable-VMEncryption: give the VM a policy without encryption (Datastore Default); needs Cryptographer.Decrypt',
  usage: 'VM [--policy POLICY] [--in-place]',
  task: true,
  options: { policy: { type: 'string' }, 'in-place': { type: 'boolean' } },
  details: [IN_PLACE_DETAIL],
  examples: ['vmcrypt vm decrypt web-01', 'vmcrypt vm decrypt web-01 --policy "Datastore Default"', 'vmcrypt vm decrypt web-01 --in-place'],
  run: (ctx) => changePolicy(ctx, false),
};

export const vmRekey: Verb = {
  words: ['rekey'],
  summary: 'Set-VMEncryptionKey: shallow (new KEK, DEKs rewrapped) or --deep (new DEKs, every byte rewritten; powered off)',
  usage: 'VM [--deep [--in-place]] [--provider PROVIDER]',
  task: true,
  options: { deep: { type: 'boolean' }, provider: { type: 'string' }, 'in-place': { type: 'boolean' } },
  details: [`With --deep: ${IN_PLACE_DETAIL}`],
  examples: ['vmcrypt vm rekey web-01', 'vmcrypt vm rekey web-01 --deep', 'vmcrypt vm rekey web-01 --deep --in-place', 'vmcrypt vm rekey web-01 --provider kp2'],
  async run(ctx) {
    const c = await ctx.client();
    const vm = await findVm(c, ctx.arg(0, 'VM'));
    const before = keyOf(vm);
    const provider = ctx.str('provider');
    const deep = ctx.bool('deep');
    if (ctx.bool('in-place') && !deep) throw new UsageError('--in-place goes with --deep: a shallow rekey rewrites no data');
    const t = await c.post<TaskRef>(`/api/vms/${seg(vm.id)}/rekey`, { deep, ...(provider === undefined ? {} : { providerId: provider }), ...inPlace(ctx) });
    return afterTask(ctx, c, vm.id, t, `${deep ? 'deep' : 'shallow'} rekey ${vm.name}`, (v) => `VM ${v.name} rekeyed (${deep ? 'deep' : 'shallow'}): key ${before} → ${keyOf(v)}`);
  },
};

export const vmUnlock: Verb = {
  words: ['unlock'],
  summary: "Unlock VM: fetch its keys from the key provider again and push them to its host",
  usage: 'VM',
  examples: ['vmcrypt vm unlock web-01', 'vmcrypt vm unlock web-01 --json'],
  async run(ctx) {
    const c = await ctx.client();
    const vm = await findVm(c, ctx.arg(0, 'VM'));
    const r = await c.post<{ locked?: boolean; lockReason?: string; unlocked: string[]; stillLocked: string[] }>(`/api/vms/${seg(vm.id)}/unlock`);
    ctx.emit(r, () => [r.locked === true || r.stillLocked.length > 0
      ? `VM ${vm.name} is still locked${r.lockReason === undefined ? '' : `: ${r.lockReason}`} (check vmcrypt kms status)`
      : `VM ${vm.name} unlocked`]);
    return r.locked === true || r.stillLocked.length > 0 ? 1 : 0;
  },
};

async function diskPolicy(ctx: VerbContext, encrypt: boolean): Promise<number> {
  const c = await ctx.client();
  const vm = await findVm(c, ctx.arg(0, 'VM'));
  const disk = ctx.arg(1, 'DISK');
  const policy = await policyFor(c, ctx.str('policy'), encrypt);
  const r = await c.post<{ vm: VmInfo; task?: TaskRef }>(`/api/vms/${seg(vm.id)}/disks/${seg(disk)}/policy`, { policyId: policy.id, ...inPlace(ctx) });
  return afterTask(ctx, c, vm.id, r.task, `${encrypt ? 'encrypt' : 'decrypt'} ${vm.name}/${disk}`, (v) => `disk ${disk} of VM ${v.name} ${encrypt ? 'encrypted' : 'decrypted'}`);
}

export const vmDiskEncrypt: Verb = {
  words: ['disk', 'encrypt'],
  summary: 'Enable-VMDiskEncryption: encrypt one disk (the VM home must be encrypted already)',
  usage: 'VM DISK [--policy POLICY] [--in-place]',
  task: true,
  options: { policy: { type: 'string' }, 'in-place': { type: 'boolean' } },
  details: ['DISK is the disk id vmcrypt vm info shows (e.g. disk0).'],
  examples: ['vmcrypt vm disk encrypt web-01 disk1', 'vmcrypt vm disk encrypt web-01 disk1 --policy gold-encrypted'],
  run: (ctx) => diskPolicy(ctx, true),
};

export const vmDiskDecrypt: Verb = {
  words: ['disk', 'decrypt'],
  summary: 'Disable-VMDiskEncryption: decrypt one disk (the VM home stays encrypted)',
  usage: 'VM DISK [--policy POLICY] [--in-place]',
  task: true,
  options: { policy: { type: 'string' }, 'in-place': { type: 'boolean' } },
  examples: ['vmcrypt vm disk decrypt web-01 disk1'],
  run: (ctx) => diskPolicy(ctx, false),
};
