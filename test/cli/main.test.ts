import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/command.js';

function capture(): CliIo & { lines: string[]; errs: string[] } {
  const lines: string[] = [];
  const errs: string[] = [];
  return { lines, errs, out: (l) => lines.push(l), err: (l) => errs.push(l), interactive: false };
}

describe('vmcrypt CLI', () => {
  it('lists its commands with --help', async () => {
    const io = capture();
    expect(await main(['--help'], io)).toBe(0);
    expect(io.lines.join('\n')).toMatch(/kms/);
    expect(io.lines.join('\n')).toMatch(/disk/);
  });

  it('names an unknown command and exits 2', async () => {
    const io = capture();
    expect(await main(['frobnicate'], io)).toBe(2);
    expect(io.errs.join('\n')).toMatch(/unknown command 'frobnicate'/);
  });
});

describe('vmcrypt CLI errors', () => {
  it('ends a usage error with the usage text, without a code suffix', async () => {
    const errs: string[] = [];
    const code = await main(['disk', 'info'], { out: () => undefined, err: (l) => errs.push(l), interactive: false });
    expect(code).toBe(2);
    expect(errs.join('\n')).toMatch(/usage: vmcrypt disk info FILE/);
    expect(errs.join('\n')).not.toMatch(/\[USAGE\]/);
  });
});
