import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/command.js';

function capture(): CliIo & { text(): string } {
  const lines: string[] = [];
  return { out: (l) => lines.push(l), err: (l) => lines.push(l), interactive: false, text: () => lines.join('\n') };
}

describe('vmcrypt host / crypto-util usage', () => {
  it('names what is missing and exits 2', async () => {
    for (const argv of [
      ['host', 'serve', '--name', 'x'],
      ['host', 'serve', '--data', '/tmp/x', '--name', 'x', '--listen', 'nope'],
      ['host', 'bogus'],
      ['crypto-util', 'coredump', 'decrypt'],
      ['crypto-util', 'coredump', 'recrypt', 'f'],
      ['crypto-util', 'nope'],
    ]) {
      const io = capture();
      expect(await main(argv, io), argv.join(' ')).toBe(2);
      expect(io.text()).toMatch(/usage: vmcrypt/);
    }
  });

  it('reports a missing agent clearly', async () => {
    const io = capture();
    expect(await main(['host', 'diagnostics', '--data', '/nonexistent-vmcrypt'], io)).toBe(1);
    expect(io.text()).toContain('no running host agent for /nonexistent-vmcrypt');
    expect(io.text()).toContain('[HOST_NOT_FOUND]');
  });

  it('never signals a process that is not the agent (stale pid file after a kill -9)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vmcrypt-stale-pid-'));
    const other = spawn('sleep', ['600'], { stdio: 'ignore' });
    try {
      await writeFile(join(dir, 'agent.pid'), String(other.pid));
      const io = capture();
      expect(await main(['host', 'diagnostics', '--data', dir], io)).toBe(1);
      expect(io.text()).toContain('stale agent.pid');
      expect(io.text()).toContain('[HOST_NOT_FOUND]');
      expect(other.exitCode).toBeNull();
      expect(other.signalCode).toBeNull(); // SIGUSR2 would have killed it
    } finally {
      other.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
