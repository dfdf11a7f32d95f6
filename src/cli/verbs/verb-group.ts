import { parseArgs } from 'node:util';
import { UsageError } from '../../errors.js';
import type { CliIo, CommandGroup } from '../command.js';
import { ManagerClient } from '../manager-client/client.js';
import { followTask, taskFailed } from '../manager-client/task-follow.js';
import { taskProgressDrawer, wantsProgress } from '../output/task-progress.js';
import { profilePath, readProfile } from '../profile-file.js';
import type { OptionValue, Verb, VerbContext, VerbOptions } from './verb.js';

const COMMON: VerbOptions = {
  json: { type: 'boolean' },
  profile: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};
const TASK: VerbOptions = { 'no-wait': { type: 'boolean' } };

export interface VerbGroupSpec {
  readonly name: string;
  readonly summary: string;
  readonly verbs: readonly Verb[];
  /** The group's older verbs (e.g. `kms serve`), tried when no verb here matches. */
  readonly fallback?: CommandGroup;
  /** Lines `vmcrypt NAME --help` prints before the verb list. */
  readonly intro?: readonly string[];
  /** Run when no verb word is given (`vmcrypt alarms` lists them). */
  readonly defaultVerb?: Verb;
}

export function verbLine(group: string, v: Verb): string {
  return `vmcrypt ${group} ${[...v.words, v.usage].filter((s) => s !== '').join(' ')}`;
}

export function verbHelp(group: string, v: Verb): string {
  const lines = [`usage: ${verbLine(group, v)}${v.task === true ? ' [--no-wait]' : ''} [--json] [--profile FILE]`, '', v.summary];
  if (v.details !== undefined) lines.push('', ...v.details);
  lines.push('', 'examples:', ...v.examples.map((e) => `  ${e}`));
  lines.push('', 'common flags: --json one JSON document on stdout; --profile FILE (else $VMCRYPT_PROFILE, else ~/.config/vmcrypt/profile.json)');
  if (v.task === true) lines.push('  --no-wait: print the task id and return (follow it with vmcrypt tasks watch ID)');
  return lines.join('\n');
}

function groupHelp(spec: VerbGroupSpec): string {
  const lines = [`usage: vmcrypt ${spec.name} <verb> …   (vmcrypt ${spec.name} <verb> --help: usage and examples)`, ''];
  if (spec.intro !== undefined) lines.push(...spec.intro, '');
  const width = Math.max(...spec.verbs.map((v) => v.words.join(' ').length));
  for (const v of spec.verbs) lines.push(`  ${v.words.join(' ').padEnd(width)}  ${v.summary}`);
  return lines.join('\n');
}

/** The verb whose words are the longest prefix of `args`. */
function match(verbs: readonly Verb[], args: readonly string[]): Verb | undefined {
  let best: Verb | undefined;
  for (const v of verbs) {
    if (v.words.every((w, i) => args[i] === w) && (best === undefined || v.words.length > best.words.length)) best = v;
  }
  return best;
}

function makeContext(group: string, v: Verb, args: readonly string[], io: CliIo): VerbContext {
  const usage = `${verbLine(group, v)}${v.task === true ? ' [--no-wait]' : ''} [--json] [--profile FILE]`;
  const usageError = (message: string): UsageError => new UsageError(`${message}\nusage: ${usage}\n(vmcrypt ${group} ${v.words.join(' ')} --help shows examples)`);
  let parsed: { values: Record<string, OptionValue>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...args], options: { ...COMMON, ...(v.task === true ? TASK : {}), ...(v.options ?? {}) }, allowPositionals: true, strict: true });
  } catch (err) {
    throw usageError(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  const json = values.json === true;
  const path = profilePath(typeof values.profile === 'string' ? values.profile : undefined);
  let client: ManagerClient | undefined;
  const ctx: VerbContext = {
    io, json, positionals, profilePath: path, command: `${group} ${v.words.join(' ')}`,
    str: (flag) => {
      const x = values[flag];
      return typeof x === 'string' ? x : undefined;
    },
    bool: (flag) => values[flag] === true,
    list: (flag) => {
      const x = values[flag];
      return Array.isArray(x) ? x.filter((e): e is string => typeof e === 'string') : typeof x === 'string' ? [x] : [];
    },
    int: (flag, min, max) => {
      const x = values[flag];
      if (x === undefined) return undefined;
      const n = Number(x);
      if (typeof x !== 'string' || !/^-?\d+$/.test(x) || n < min || n > max) throw usageError(`--${flag} must be an integer from ${min} to ${max}`);
      return n;
    },
    arg: (i, name) => {
      const x = positionals[i];
      if (x === undefined || x === '') throw usageError(`missing ${name}`);
      return x;
    },
    usageError,
    client: async () => (client ??= new ManagerClient(await readProfile(path))),
    emit: (doc, human) => {
      if (json) io.out(JSON.stringify(doc, null, 2));
      else for (const line of human()) io.out(line);
    },
    follow: async (task, label) => {
      if (values['no-wait'] === true) {
        ctx.emit({ task: task.id, state: task.state }, () => [`task ${task.id} started: follow it with vmcrypt tasks watch ${task.id}`]);
        return undefined;
      }
      const c = await ctx.client();
      const bar = wantsProgress(json, io.interactive) ? taskProgressDrawer(label, process.stderr) : undefined;
      try {
        const t = await followTask(c, task.id, bar === undefined ? {} : { onProgress: (x) => bar.update(x) });
        if (t.state === 'error') throw taskFailed(t);
        return t;
      } finally {
        bar?.done();
      }
    },
  };
  const required = requiredPositionals(v.usage);
  // Checked before anything is read or sent: a usage error never needs a profile or a manager.
  if (positionals.length < required.length) throw usageError(`missing ${required[positionals.length] ?? 'argument'}`);
  if (positionals.length > maxPositionals(v.usage)) throw usageError(`unexpected argument '${positionals[maxPositionals(v.usage)] ?? ''}'`);
  return ctx;
}

function positionalWords(usage: string): string[] {
  const words = usage.split(/\s+/);
  const firstFlag = words.findIndex((w) => /^\[?-/.test(w));
  return (firstFlag === -1 ? words : words.slice(0, firstFlag)).filter((w) => /^\[?[A-Z][A-Z0-9_-]*\]?(…)?$/.test(w));
}

/** The positionals a usage string requires ('VM NAME [X]' → VM, NAME). */
function requiredPositionals(usage: string): string[] {
  return positionalWords(usage).filter((w) => !w.startsWith('[')).map((w) => w.replace(/…$/, ''));
}

/** Upper-case words before the first flag in a usage string are positionals ('VM NAME' = 2; 'FILE…' = any number). */
function maxPositionals(usage: string): number {
  const positional = positionalWords(usage);
  return positional.some((w) => w.endsWith('…')) ? Number.POSITIVE_INFINITY : positional.length;
}

/** A group built from verbs; `verbs` lets tests walk every verb's help. */
export interface VerbCommandGroup extends CommandGroup {
  readonly verbs: readonly Verb[];
}

/** A CommandGroup made of verbs: dispatch, --help with examples, usage errors (exit 2). */
export function verbGroup(spec: VerbGroupSpec): VerbCommandGroup {
  return {
    name: spec.name,
    summary: spec.summary,
    verbs: spec.verbs,
    async run(args, io) {
      const first = args[0];
      const only = spec.verbs.length === 1 && spec.verbs[0]?.words.length === 0 ? spec.verbs[0] : undefined;
      if (only !== undefined) {
        // A group that is one verb (`vmcrypt login URL`): no verb word to dispatch on.
        if (args.includes('--help') || args.includes('-h')) {
          io.out(verbHelp(spec.name, only));
          return 0;
        }
        return only.run(makeContext(spec.name, only, args, io));
      }
      const dflt = spec.defaultVerb;
      if (dflt !== undefined && (first === undefined || (first.startsWith('-') && first !== '--help' && first !== '-h'))) {
        return dflt.run(makeContext(spec.name, dflt, args, io));
      }
      if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
        io.out(groupHelp(spec));
        if (spec.fallback !== undefined) {
          io.out('');
          await spec.fallback.run(['--help'], { ...io, out: (l) => io.out(l) });
        }
        return first === undefined ? 2 : 0;
      }
      const v = match(spec.verbs, args);
      if (v === undefined) {
        if (spec.fallback !== undefined) return spec.fallback.run(args, io);
        throw new UsageError(`unknown command '${spec.name} ${first}'\n${groupHelp(spec)}`);
      }
      const rest = args.slice(v.words.length);
      if (rest.includes('--help') || rest.includes('-h')) {
        io.out(verbHelp(spec.name, v));
        return 0;
      }
      return v.run(makeContext(spec.name, v, rest, io));
    },
  };
}
