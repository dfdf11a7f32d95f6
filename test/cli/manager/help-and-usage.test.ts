import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../../src/cli/command.js';
import { commandIndex, loadCommandGroups } from '../../../src/cli/commands/index.js';
import { main } from '../../../src/cli/main.js';
import type { VerbCommandGroup } from '../../../src/cli/verbs/verb-group.js';

function capture(): CliIo & { lines: string[]; errs: string[] } {
  const lines: string[] = [];
  const errs: string[] = [];
  return { lines, errs, out: (l) => lines.push(l), err: (l) => errs.push(l), interactive: false };
}

const commandGroups = await loadCommandGroups();
const verbGroups = commandGroups.filter((g): g is VerbCommandGroup => 'verbs' in g);

describe('operator verbs: --help and usage errors (in process, no manager needed)', () => {
  it('the lazy index names each group as the group itself does (name and summary)', () => {
    expect(commandGroups.map((g) => [g.name, g.summary])).toEqual(commandIndex.map((g) => [g.name, g.summary]));
  });

  it('has the verb groups the issue names', () => {
    expect(verbGroups.map((g) => g.name)).toEqual(expect.arrayContaining([
      'login', 'logout', 'vm', 'host', 'cluster', 'kms', 'key', 'policy', 'events', 'alarms', 'tasks', 'user', 'role', 'permission',
    ]));
    const vm = verbGroups.find((g) => g.name === 'vm');
    expect(vm?.verbs.map((v) => v.words.join(' '))).toEqual(expect.arrayContaining([
      'list', 'create', 'info', 'encrypt', 'decrypt', 'rekey', 'unlock', 'power-on', 'power-off',
      'snapshot create', 'snapshot list', 'snapshot revert', 'snapshot remove',
      'clone', 'instant-clone', 'export', 'restore', 'disk encrypt', 'disk decrypt',
    ]));
  });

  for (const g of verbGroups) {
    for (const v of g.verbs) {
      const cmd = [g.name, ...v.words].join(' ');
      it(`vmcrypt ${cmd} --help shows the usage and a runnable example`, async () => {
        const io = capture();
        expect(await main([g.name, ...v.words, '--help'], io)).toBe(0);
        const text = io.lines.join('\n');
        expect(text).toMatch(new RegExp(`^usage: vmcrypt ${cmd.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
        const examples = text.split('\nexamples:\n')[1]?.split('\n\n')[0]?.split('\n') ?? [];
        expect(examples.length).toBeGreaterThan(0);
        expect(examples.some((ex) => ex.includes(`vmcrypt ${cmd}`))).toBe(true);
      });
    }
  }

  it('keeps the component verbs beside the new ones in host and kms', async () => {
    for (const [group, old] of [['host', 'serve'], ['kms', 'serve'], ['kms', 'init']] as const) {
      const io = capture();
      expect(await main([group, '--help'], io)).toBe(0);
      expect(io.lines.join('\n')).toContain(`vmcrypt ${group} ${old}`);
    }
    const usage = capture();
    expect(await main(['host', 'serve'], usage)).toBe(2); // the old parser still answers (missing --data)
  });

  it.each([
    [['vm', 'encrypt'], /missing VM/],
    [['vm', 'frobnicate'], /unknown command 'vm frobnicate'/],
    [['vm', 'list', '--bogus'], /Unknown option '--bogus'/],
    [['vm', 'info', 'a', 'b'], /unexpected argument 'b'/],
    [['cluster', 'set', 'prod', '--ha', 'maybe'], /--ha is on or off/],
    [['vm', 'create', 'x'], /missing --host/],
    [['vm', 'create', 'x', '--host', 'h', '--memory', 'lots'], /--memory must be an integer/],
    [['vm', 'clone', 'a', 'b', '--recrypt', 'sideways'], /--recrypt is shallow or deep/],
    [['kms', 'add', 'kp9'], /at least one --server/],
    [['login', 'ftp://x', '--user', 'a'], /HTTPS only/],
    [['events', '--severity', 'loud'], /--severity is info/],
  ])('vmcrypt %j is a usage error (exit 2, usage text)', async (args, message) => {
    const io = capture();
    expect(await main(args, io)).toBe(2);
    const err = io.errs.join('\n');
    expect(err).toMatch(message);
    expect(err).toMatch(/usage: vmcrypt/);
    expect(io.lines).toEqual([]);
  });
});
