import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface Running {
  readonly child: ChildProcess;
  /** Everything the process wrote so far (stdout + stderr). */
  output(): string;
  /** SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL now (crash simulation); resolves when the process is gone. */
  kill(): Promise<void>;
}

const running = new Set<Running>();

/**
 * Starts a process and waits until its output matches `ready` (or it exits, which rejects).
 * Every process started here is tracked; `stopAll()` in afterAll stops what a test left.
 */
export async function startProcess(
  cmd: string,
  args: readonly string[],
  opts: SpawnOptions & { ready?: RegExp; readyTimeoutMs?: number } = {},
): Promise<Running> {
  const child = spawn(cmd, [...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const gone = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const handle: Running = {
    child,
    output: () => out,
    async stop(graceMs = 5000) {
      if (!gone()) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(t);
      }
      running.delete(handle);
    },
    async kill() {
      if (!gone()) {
        child.kill('SIGKILL');
        await exited;
      }
      running.delete(handle);
    },
  };
  running.add(handle);
  await new Promise<void>((resolve, reject) => {
    const timeout = setTimeout(
      () => reject(new Error(`${cmd} not ready after ${opts.readyTimeoutMs ?? 30000} ms; output:\n${out}`)),
      opts.readyTimeoutMs ?? 30000,
    );
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (opts.ready === undefined || opts.ready.test(out)) {
        clearTimeout(timeout);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, sig) => {
      clearTimeout(timeout);
      reject(new Error(`${cmd} exited (${code ?? sig}) before ready; output:\n${out}`));
    });
    if (opts.ready === undefined) {
      clearTimeout(timeout);
      resolve();
    }
  });
  return handle;
}

/** Stops every process startProcess started and that is still tracked. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((r) => r.stop()));
}
