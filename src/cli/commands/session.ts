import { readFile } from 'node:fs/promises';
import { VmcryptError } from '../../errors.js';
import type { CommandGroup } from '../command.js';
import { answerError } from '../manager-client/answer-errors.js';
import { pinnedRequest, probeThumbprint } from '../manager-client/pinned-https.js';
import { readProfile, removeProfile, writeProfile } from '../profile-file.js';
import type { CliProfile } from '../profile.js';
import { confirm, promptSecret, readStdinLine } from '../prompt.js';
import type { Verb, VerbContext } from '../verbs/verb.js';
import { verbGroup } from '../verbs/verb-group.js';
import { groupSummary } from './summaries.js';

const THUMBPRINT = /^[0-9a-f]{64}$/;

function managerUrl(ctx: VerbContext, text: string): string {
  let u: URL;
  try {
    u = new URL(/^[a-z]+:\/\//i.test(text) ? text : `https://${text}`);
  } catch {
    throw ctx.usageError(`'${text}' is not a manager URL (https://HOST:PORT)`);
  }
  if (u.protocol !== 'https:') throw ctx.usageError('the manager speaks HTTPS only: https://HOST:PORT');
  return u.origin;
}

async function password(ctx: VerbContext, user: string): Promise<string> {
  const file = ctx.str('password-file');
  let pw: string;
  if (file !== undefined) pw = (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
  else if (ctx.bool('password-stdin')) pw = await readStdinLine();
  else if (process.env.VMCRYPT_PASSWORD !== undefined && process.env.VMCRYPT_PASSWORD !== '') pw = process.env.VMCRYPT_PASSWORD;
  else pw = await promptSecret(`password for ${user}: `);
  if (pw === '' || pw.length > 1024) throw ctx.usageError('the password is empty or longer than 1024 characters');
  return pw;
}

/** The thumbprint to pin: --thumbprint, the one already pinned for this URL, or the operator's yes on a terminal. */
async function trustedThumbprint(ctx: VerbContext, url: string, previous: CliProfile | undefined): Promise<string> {
  const seen = await probeThumbprint(url);
  const given = ctx.str('thumbprint')?.toLowerCase().replace(/:/g, '');
  if (given !== undefined) {
    if (!THUMBPRINT.test(given)) throw ctx.usageError('--thumbprint must be the 64 hex digits of a SHA-256');
    if (given !== seen) throw new VmcryptError('MANAGER_CERT_MISMATCH', `the manager at ${url} presents certificate sha256=${seen}, not the ${given} you gave: do not log in until you know why`);
    return given;
  }
  if (previous?.managerUrl === url && previous.thumbprint === seen) return seen;
  if (!ctx.json && (await confirm(`The manager at ${url} presents certificate sha256=${seen}\n(manager serve printed its thumbprint at start). Trust it? [y/N] `))) return seen;
  throw new VmcryptError('UNTRUSTED_CERTIFICATE',
    `the manager at ${url} presents certificate sha256=${seen}: compare it with the thumbprint 'vmcrypt manager serve' printed, then pass --thumbprint ${seen}`);
}

const login: Verb = {
  words: [],
  summary: 'Log in to a manager: pin its certificate, get a session token, write the profile (0600)',
  usage: 'URL --user NAME [--thumbprint SHA256] [--password-file FILE | --password-stdin]',
  options: { user: { type: 'string', short: 'u' }, thumbprint: { type: 'string' }, 'password-file': { type: 'string' }, 'password-stdin': { type: 'boolean' } },
  details: [
    'The password comes from --password-file, --password-stdin, $VMCRYPT_PASSWORD, or a prompt on the terminal.',
    "The manager's certificate is pinned by its SHA-256: give --thumbprint (what 'vmcrypt manager serve' printed)",
    'or confirm it at the prompt. The profile (manager URL, thumbprint, token) is written to --profile FILE,',
    '$VMCRYPT_PROFILE or ~/.config/vmcrypt/profile.json with mode 0600. Sessions last 8 hours.',
  ],
  examples: [
    'vmcrypt login https://127.0.0.1:9443 --user admin',
    'vmcrypt login https://vc.lab:9443 --user alice --thumbprint 9d0a…c6 --password-file ~/.vmcrypt-pw',
    'echo "$PW" | vmcrypt login https://127.0.0.1:9443 -u admin --password-stdin --profile ./prod.json',
  ],
  async run(ctx: VerbContext) {
    const url = managerUrl(ctx, ctx.arg(0, 'URL'));
    const user = ctx.str('user');
    if (user === undefined || user === '') throw ctx.usageError('missing --user NAME');
    const previous = await readProfile(ctx.profilePath).catch(() => undefined);
    const thumbprint = await trustedThumbprint(ctx, url, previous);
    const pw = await password(ctx, user);
    const answer = await pinnedRequest({ baseUrl: url, thumbprint, method: 'POST', path: '/api/session', body: { user, password: pw } });
    if (answer.status === 401) throw new VmcryptError('LOGIN_FAILED', `the manager at ${url} refused user ${user}: wrong user name or password`);
    if (answer.status !== 200) throw answerError(answer.status, answer.body, 'login');
    const s = answer.body as { token: string; user: string; expiresAt: string };
    const profile: CliProfile = {
      version: 1, managerUrl: url, thumbprint, token: s.token, user: s.user,
      ...(previous?.managerUrl === url && previous.labDir !== undefined ? { labDir: previous.labDir } : {}),
    };
    await writeProfile(ctx.profilePath, profile);
    ctx.emit({ managerUrl: url, user: s.user, thumbprint, expiresAt: s.expiresAt, profile: ctx.profilePath },
      () => [`logged in to ${url} as ${s.user} until ${s.expiresAt}; profile ${ctx.profilePath} (0600)`]);
    return 0;
  },
};

const logout: Verb = {
  words: [],
  summary: 'End the session (the token stops working) and remove the profile file',
  usage: '',
  examples: ['vmcrypt logout', 'vmcrypt logout --profile ./prod.json'],
  async run(ctx: VerbContext) {
    const c = await ctx.client();
    try {
      await c.delete('/api/session');
    } catch (err) {
      // An expired token is as logged out as it gets; anything else (unreachable) is worth saying.
      if (!(err instanceof VmcryptError) || err.code !== 'LOGIN_REQUIRED') throw err;
    }
    await removeProfile(ctx.profilePath);
    ctx.emit({ loggedOut: true, profile: ctx.profilePath }, () => [`logged out of ${c.profile.managerUrl}; removed ${ctx.profilePath}`]);
    return 0;
  },
};

const whoami: Verb = {
  words: [],
  summary: 'Who the profile logs in as, and the privileges on the inventory root',
  usage: '',
  examples: ['vmcrypt whoami', 'vmcrypt whoami --json | jq .privileges'],
  async run(ctx: VerbContext) {
    const c = await ctx.client();
    const s = await c.get<{ user: string; role?: string; privileges: string[] }>('/api/session');
    ctx.emit({ ...s, managerUrl: c.profile.managerUrl }, () => [
      `${s.user} on ${c.profile.managerUrl} (role ${s.role ?? 'none'} on the root)`,
      ...s.privileges.map((p) => `  ${p}`),
    ]);
    return 0;
  },
};

export const loginCommands: CommandGroup = verbGroup({ name: 'login', summary: groupSummary('login'), verbs: [login] });
export const logoutCommands: CommandGroup = verbGroup({ name: 'logout', summary: groupSummary('logout'), verbs: [logout] });
export const whoamiCommands: CommandGroup = verbGroup({ name: 'whoami', summary: groupSummary('whoami'), verbs: [whoami] });
