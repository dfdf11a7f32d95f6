import type { ChildProcess } from 'node:child_process';
import { startChild, type SupervisedChild } from '../../src/proc/supervisor.js';

export interface Running {
  readonly child: ChildProcess;
  /** The last OUTPUT_LIMIT characters the process wrote (stdout + stderr). */
  output(): string;
  /** SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL now (crash simulation); resolves when the process is gone. */
  kill(): Promise<void>;
}

export interface StartOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Own process group, so a group kill also reaches the children it forks (PyKMIP). */
  readonly detached?: boolean;
  /** Resolves once the output matches; without it, at once. */
  readonly ready?: RegExp;
  readonly readyTimeoutMs?: number;
}

/** Plenty for a test's assertions on a server's log, bounded so a chatty child cannot grow the runner. */
const OUTPUT_LIMIT = 1024 * 1024;

const running = new Set<Running>();

/**
 * Starts a process through src/proc's supervisor and waits until its output matches `ready` (or
 * it exits, which rejects with the end of its output). Every process started here is tracked;
 * `stopAll()` in afterAll stops what a test left.
 */
export async function startProcess(cmd: string, args: readonly string[], opts: StartOptions = {}): Promise<Running> {
  const sup: SupervisedChild = startChild({
    name: cmd,
    command: cmd,
    args,
    outputLimit: OUTPUT_LIMIT,
    ...(opts.env === undefined ? {} : { env: opts.env }),
    ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    ...(opts.detached === undefined ? {} : { detached: opts.detached }),
  });
  const handle: Running = {
    child: sup.child,
    output: () => sup.output(),
    async stop(graceMs = 5000) {
      await sup.stop(graceMs);
      running.delete(handle);
    },
    async kill() {
      await sup.kill();
      running.delete(handle);
    },
  };
  running.add(handle);
  if (opts.ready !== undefined) await sup.waitForOutput(opts.ready, opts.readyTimeoutMs ?? 30_000);
  return handle;
}

/** Stops every process startProcess started and that is still tracked. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((r) => r.stop()));
}
