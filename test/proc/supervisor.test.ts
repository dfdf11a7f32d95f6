import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcessError } from '../../src/proc/errors.js';
import { startChild, type SupervisedChild } from '../../src/proc/supervisor.js';
import { runToCompletion } from '../../src/proc/run-to-completion.js';
import { repoRoot } from '../helpers/cli.js';

const started: SupervisedChild[] = [];
function start(...args: Parameters<typeof startChild>): SupervisedChild {
  const c = startChild(...args);
  started.push(c);
  return c;
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => c.kill()));
});

const node = (script: string): { command: string; args: string[] } => ({ command: process.execPath, args: ['-e', script] });

/** Gone, or a zombie nobody reaped yet (dead all the same). Polled, never timed. */
async function exitsEventually(pid: number): Promise<boolean> {
  for (let i = 0; i < 300; i++) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (stat === '' || /^\d+ \(.*\) Z /.test(stat)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describe('startChild: output capture', () => {
  it('keeps only the last outputLimit characters of a child that writes far more', async () => {
    const c = start({ name: 'chatty', ...node("process.stdout.write('x'.repeat(1 << 20) + 'THE-END')"), outputLimit: 4096 });
    let seen = 0;
    c.tap((t) => (seen += t.length));
    expect(await c.exited).toMatchObject({ code: 0 });
    expect(c.output().length).toBe(4096);
    expect(c.output().endsWith('THE-END')).toBe(true);
    expect(seen).toBe((1 << 20) + 'THE-END'.length);
  });

  it('passes every chunk to onOutput', async () => {
    const chunks: string[] = [];
    const c = start({ name: 'echo', ...node("console.log('hello'); console.error('world')"), onOutput: (t) => chunks.push(t) });
    await c.exited;
    expect(chunks.join('')).toContain('hello');
    expect(chunks.join('')).toContain('world');
  });
});

describe('startChild: ready checks', () => {
  it('resolves with the match of the ready line', async () => {
    const c = start({ name: 'server', ...node("console.log('noise'); setTimeout(() => console.log('listening on 127.0.0.1:4242'), 50); setInterval(() => {}, 1000)") });
    const m = await c.waitForOutput(/listening on (\S+)/, 30_000);
    expect(m[1]).toBe('127.0.0.1:4242');
  });

  it('times out with PROC_NOT_READY and quotes the tail of the output', async () => {
    const c = start({ name: 'slowpoke', ...node("console.log('loading config'); console.error('waiting for the disk'); setInterval(() => {}, 1000)") });
    await c.waitForOutput(/waiting for the disk/, 30_000);
    const err = await c.waitForOutput(/never printed/, 200).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProcessError);
    expect(err).toMatchObject({ code: 'PROC_NOT_READY' });
    expect((err as Error).message).toContain('slowpoke not ready after 200 ms');
    expect((err as Error).message).toContain('waiting for the disk');
    expect(c.running()).toBe(true); // the caller decides what to do with it
  });

  it('fails with PROC_EXITED, the exit status and the tail when the child dies first', async () => {
    const c = start({ name: 'quitter', ...node("console.error('bad flag --frob'); process.exit(3)") });
    const err = await c.waitForOutput(/ready/, 30_000).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PROC_EXITED' });
    expect((err as Error).message).toContain('exit code 3');
    expect((err as Error).message).toContain('bad flag --frob');
  });

  it('fails with PROC_START_FAILED when the command cannot be executed', async () => {
    const c = start({ name: 'ghost', command: '/nonexistent/vmcrypt-ghost', args: [] });
    await expect(c.waitForOutput(/x/, 30_000)).rejects.toMatchObject({ code: 'PROC_START_FAILED' });
    expect((await c.exited).error).toBeDefined();
    expect(c.running()).toBe(false);
    expect(c.pid).toBe(-1);
  });

  it('polls an async probe until it yields a value', async () => {
    const c = start({ name: 'probed', ...node('setInterval(() => {}, 1000)') });
    let calls = 0;
    const v = await c.waitFor(async () => (++calls < 3 ? undefined : `after ${calls}`), { timeoutMs: 30_000, intervalMs: 10 });
    expect(v).toBe('after 3');
  });

  it('a probe that never succeeds ends in PROC_NOT_READY; one that hangs is given up and its late value discarded', async () => {
    const c = start({ name: 'hung', ...node("console.log('still booting'); setInterval(() => {}, 1000)") });
    await c.waitForOutput(/still booting/, 30_000);
    const discarded: string[] = [];
    let release: (v: string) => void = () => undefined;
    const err = await c
      .waitFor(() => new Promise<string>((r) => (release = r)), { timeoutMs: 200, discard: (late) => discarded.push(late) })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PROC_NOT_READY' });
    expect((err as Error).message).toContain('still booting');
    release('late connection');
    await new Promise((r) => setImmediate(r));
    expect(discarded).toEqual(['late connection']);
  });
});

describe('startChild: stopping', () => {
  it('stop() ends a cooperative child with SIGTERM', async () => {
    const c = start({ name: 'polite', ...node("console.log('up'); setInterval(() => {}, 1000)") });
    await c.waitForOutput(/up/, 30_000);
    expect(await c.stop(30_000)).toMatchObject({ signal: 'SIGTERM' });
    expect(c.running()).toBe(false);
  });

  it('stop() SIGKILLs a child that ignores SIGTERM once the grace period is over', async () => {
    const c = start({ name: 'stubborn', ...node("process.on('SIGTERM', () => console.log('ignoring TERM')); console.log('up'); setInterval(() => {}, 1000)") });
    await c.waitForOutput(/up/, 30_000);
    const s = await c.stop(300);
    expect(s).toMatchObject({ signal: 'SIGKILL' });
    expect(c.output()).toContain('ignoring TERM');
    expect(await exitsEventually(c.pid)).toBe(true);
  });

  it('stop() and kill() of a child that is already gone resolve with its status', async () => {
    const c = start({ name: 'brief', ...node('process.exit(0)') });
    await c.exited;
    expect(await c.stop()).toMatchObject({ code: 0 });
    expect(await c.kill()).toMatchObject({ code: 0 });
  });
});

describe('startChild: launchers', () => {
  it('a child started with prlimit coreLimit 0 may write no core file', async () => {
    const limits = await runToCompletion({ name: 'cat', command: 'cat', args: ['/proc/self/limits'], launch: { coreLimit: 0, diesWithParent: 'require' } });
    expect(limits).toMatch(/^Max core file size\s+0\s+0\s/m);
  });

  it('keeps the pid of the command itself (the launchers exec)', async () => {
    const c = start({ name: 'self', ...node('console.log(`pid=${process.pid}`); setInterval(() => {}, 1000)'), launch: { diesWithParent: 'require', coreLimit: 0, lineBufferedStdout: true } });
    const m = await c.waitForOutput(/pid=(\d+)/, 30_000);
    expect(Number(m[1])).toBe(c.pid);
  });

  async function orphanAfterParentKill(mode: 'pdeathsig' | 'plain'): Promise<number> {
    const parent = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test', 'proc', 'fixtures', 'parent-of-sleeper.ts'), mode], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    const pid = await new Promise<number>((resolve, reject) => {
      parent.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /child pid (\d+)/.exec(out);
        if (m !== null) resolve(Number(m[1]));
      });
      parent.once('exit', (code) => reject(new Error(`parent exited (${code}): ${out}`)));
    });
    const parentGone = new Promise((r) => parent.once('exit', r));
    parent.kill('SIGKILL');
    await parentGone;
    return pid;
  }

  it('a child started with diesWithParent dies when its parent is SIGKILLed', async () => {
    const pid = await orphanAfterParentKill('pdeathsig');
    expect(pid).toBeGreaterThan(1);
    expect(await exitsEventually(pid)).toBe(true);
  });

  it('(control) without it, the child outlives a SIGKILLed parent', async () => {
    const pid = await orphanAfterParentKill('plain');
    try {
      await new Promise((r) => setTimeout(r, 300));
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      expect(stat).not.toMatch(/^\d+ \(.*\) Z /);
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });
});

describe('runToCompletion', () => {
  it('rejects with PROC_FAILED and the tail when the child fails', async () => {
    const err = await runToCompletion({ name: 'vmcrypt kms init', ...node("console.error('data dir not empty'); process.exit(2)") }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PROC_FAILED' });
    expect((err as Error).message).toContain('exit code 2');
    expect((err as Error).message).toContain('data dir not empty');
  });
});
