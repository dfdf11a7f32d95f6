import type { Permission } from '../../manager/access/permissions.js';
import type { CommandGroup } from '../command.js';
import { seg, type ManagerClient } from '../manager-client/client.js';
import type { EntityRef } from '../manager-client/records.js';
import { findCluster, findDatastore, findHost, findPolicy, findProvider, findVm } from '../manager-client/resolve.js';
import { formatTable } from '../output/table.js';
import { readStdinLine } from '../prompt.js';
import type { Verb, VerbContext } from '../verbs/verb.js';
import { verbGroup } from '../verbs/verb-group.js';
import { groupSummary } from './summaries.js';

const ON = 'root | vm:NAME | host:NAME | cluster:NAME | datastore:NAME | policy:NAME | keyProvider:ID | folder:ID';

/** `--on KIND:NAME` → the entity (names resolved to ids); the root when absent. */
async function entityOf(ctx: VerbContext, c: ManagerClient): Promise<EntityRef> {
  const on = ctx.str('on');
  if (on === undefined || on === 'root') return { kind: 'root', id: 'root' };
  const i = on.indexOf(':');
  const kind = i < 0 ? on : on.slice(0, i);
  const ref = i < 0 ? '' : on.slice(i + 1);
  if (ref === '') throw ctx.usageError(`--on ${on}: expected ${ON}`);
  switch (kind) {
    case 'vm': return { kind, id: (await findVm(c, ref)).id };
    case 'host': return { kind, id: (await findHost(c, ref)).id };
    case 'cluster': return { kind, id: (await findCluster(c, ref)).id };
    case 'datastore': return { kind, id: (await findDatastore(c, ref)).id };
    case 'policy': return { kind, id: (await findPolicy(c, ref)).id };
    case 'keyProvider': return { kind, id: (await findProvider(c, ref)).id };
    case 'folder': return { kind, id: ref };
    default: throw ctx.usageError(`--on ${on}: expected ${ON}`);
  }
}

async function newPassword(ctx: VerbContext): Promise<string> {
  if (ctx.bool('password-stdin')) return readStdinLine();
  const env = process.env.VMCRYPT_NEW_PASSWORD;
  if (env !== undefined && env !== '') return env;
  throw ctx.usageError('give the password with --password-stdin or $VMCRYPT_NEW_PASSWORD (never on the command line)');
}

const PW = { 'password-stdin': { type: 'boolean' } } as const;

const userList: Verb = {
  words: ['list'], summary: 'Users of the manager', usage: '', examples: ['vmcrypt user list'],
  async run(ctx) {
    const us = await (await ctx.client()).get<{ name: string; createdAt: string }[]>('/api/users');
    ctx.emit(us, () => formatTable(us, [{ title: 'name', cell: (u) => u.name }, { title: 'created', cell: (u) => u.createdAt }]));
    return 0;
  },
};

const userCreate: Verb = {
  words: ['create'], summary: 'Create a user (no permission yet: vmcrypt permission set USER ROLE)', usage: 'NAME --password-stdin', options: PW,
  examples: ['echo "$PW" | vmcrypt user create alice --password-stdin', 'VMCRYPT_NEW_PASSWORD=… vmcrypt user create bob'],
  async run(ctx) {
    const name = ctx.arg(0, 'NAME');
    const password = await newPassword(ctx);
    const u = await (await ctx.client()).post<{ name: string }>('/api/users', { name, password });
    ctx.emit(u, () => [`created user ${u.name}; give them a role: vmcrypt permission set ${u.name} ROLE`]);
    return 0;
  },
};

const userDelete: Verb = {
  words: ['delete'], summary: 'Delete a user with their sessions, tokens and permissions', usage: 'NAME', examples: ['vmcrypt user delete bob'],
  async run(ctx) {
    const name = ctx.arg(0, 'NAME');
    await (await ctx.client()).delete(`/api/users/${seg(name)}`);
    ctx.emit({ deleted: name }, () => [`deleted user ${name}`]);
    return 0;
  },
};

const userPassword: Verb = {
  words: ['password'], summary: "Set a user's password (ends that user's sessions)", usage: 'NAME --password-stdin', options: PW,
  examples: ['echo "$PW" | vmcrypt user password alice --password-stdin'],
  async run(ctx) {
    const name = ctx.arg(0, 'NAME');
    const password = await newPassword(ctx);
    await (await ctx.client()).put(`/api/users/${seg(name)}/password`, { password });
    ctx.emit({ user: name, passwordSet: true }, () => [`password of ${name} set; their sessions ended`]);
    return 0;
  },
};

const roleList: Verb = {
  words: ['list'], summary: 'Roles (built-in: Administrator, No Cryptography Administrator, Read-only, …) and their privileges', usage: '[--privileges]',
  options: { privileges: { type: 'boolean' } },
  examples: ['vmcrypt role list', 'vmcrypt role list --privileges', 'vmcrypt role list --json'],
  async run(ctx) {
    const rs = await (await ctx.client()).get<{ name: string; builtin: boolean; privileges: string[] }[]>('/api/roles');
    ctx.emit(rs, () => ctx.bool('privileges')
      ? rs.flatMap((r) => [`${r.name}${r.builtin ? ' (built-in)' : ''}:`, ...r.privileges.map((p) => `  ${p}`)])
      : formatTable(rs, [{ title: 'name', cell: (r) => r.name }, { title: 'built-in', cell: (r) => (r.builtin ? 'yes' : 'no') }, { title: 'privileges', cell: (r) => r.privileges.length }]));
    return 0;
  },
};

const roleCreate: Verb = {
  words: ['create'], summary: 'Create a custom role from privileges (vmcrypt role list --privileges shows them)', usage: 'NAME --privilege PRIV…',
  options: { privilege: { type: 'string', multiple: true } },
  examples: ['vmcrypt role create key-auditor --privilege System.Read --privilege Cryptographer.ReadKeyServersInfo'],
  async run(ctx) {
    const name = ctx.arg(0, 'NAME');
    const privileges = ctx.list('privilege');
    if (privileges.length === 0) throw ctx.usageError('give at least one --privilege');
    const r = await (await ctx.client()).post<{ name: string; privileges: string[] }>('/api/roles', { name, privileges });
    ctx.emit(r, () => [`created role ${r.name} with ${r.privileges.length} privilege(s)`]);
    return 0;
  },
};

const roleDelete: Verb = {
  words: ['delete'], summary: 'Delete a custom role that no permission uses', usage: 'NAME', examples: ['vmcrypt role delete key-auditor'],
  async run(ctx) {
    const name = ctx.arg(0, 'NAME');
    await (await ctx.client()).delete(`/api/roles/${seg(name)}`);
    ctx.emit({ deleted: name }, () => [`deleted role ${name}`]);
    return 0;
  },
};

const permissionList: Verb = {
  words: ['list'], summary: 'Permissions defined on one object (default: the root)', usage: `[--on ${ON}]`,
  options: { on: { type: 'string' } },
  examples: ['vmcrypt permission list', 'vmcrypt permission list --on vm:web-01'],
  async run(ctx) {
    const c = await ctx.client();
    const e = await entityOf(ctx, c);
    const ps = await c.get<Permission[]>('/api/permissions', { kind: e.kind, id: e.id });
    ctx.emit(ps, () => formatTable(ps, [
      { title: 'user', cell: (p) => p.principal }, { title: 'role', cell: (p) => p.role },
      { title: 'on', cell: (p) => `${p.entity.kind} ${p.entity.id}` }, { title: 'propagate', cell: (p) => (p.propagate ? 'yes' : 'no') },
    ]));
    return 0;
  },
};

const permissionSet: Verb = {
  words: ['set'], summary: "Give a user a role on an object (replaces that user's permission there)", usage: `USER ROLE [--on ${ON}] [--no-propagate]`,
  options: { on: { type: 'string' }, 'no-propagate': { type: 'boolean' } },
  examples: ['vmcrypt permission set alice "No Cryptography Administrator"', 'vmcrypt permission set bob Administrator --on cluster:prod'],
  async run(ctx) {
    const principal = ctx.arg(0, 'USER');
    const role = ctx.arg(1, 'ROLE');
    const c = await ctx.client();
    const entity = await entityOf(ctx, c);
    const p = await c.put<Permission>('/api/permissions', { principal, role, entity, propagate: !ctx.bool('no-propagate') });
    ctx.emit(p, () => [`${p.principal} has role ${p.role} on ${p.entity.kind} ${p.entity.id}${p.propagate ? ' and below' : ''}`]);
    return 0;
  },
};

const permissionRemove: Verb = {
  words: ['remove'], summary: "Remove a user's permission on an object", usage: `USER [--on ${ON}]`,
  options: { on: { type: 'string' } },
  examples: ['vmcrypt permission remove alice', 'vmcrypt permission remove bob --on cluster:prod'],
  async run(ctx) {
    const principal = ctx.arg(0, 'USER');
    const c = await ctx.client();
    const e = await entityOf(ctx, c);
    await c.delete('/api/permissions', { principal, kind: e.kind, id: e.id });
    ctx.emit({ removed: { principal, entity: e } }, () => [`removed the permission of ${principal} on ${e.kind} ${e.id}`]);
    return 0;
  },
};

export const userCommands: CommandGroup = verbGroup({ name: 'user', summary: groupSummary('user'), verbs: [userList, userCreate, userDelete, userPassword], defaultVerb: userList });
export const roleCommands: CommandGroup = verbGroup({ name: 'role', summary: groupSummary('role'), verbs: [roleList, roleCreate, roleDelete], defaultVerb: roleList });
export const permissionCommands: CommandGroup = verbGroup({ name: 'permission', summary: groupSummary('permission'), verbs: [permissionList, permissionSet, permissionRemove], defaultVerb: permissionList });
