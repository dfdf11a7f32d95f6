import { spawn, type ChildProcess } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { ProcessError, ProcessErrorCode } from './errors.js';
import { launchArgv, type LaunchOptions } from './launcher.js';
import { OutputTail } from './output-tail.js';

/**
 * The one way vmcrypt starts a long-running child (etcd members, KMS nodes, lab host agents,
 * QEMU): launched through setpriv/prlimit as asked, stdout + stderr captured into a bounded
 * tail, a ready check that fails with that tail, a graceful stop that ends in SIGKILL, and an
 * exit promise. Run-to-completion children use runToCompletion (run-to-completion.ts).
 */
export interface ChildOptions {
  /** Says which child an error is about: "etcd member etcd-0", "host host-1". */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly launch?: LaunchOptions;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Its own process group (setsid), so a kill of the group reaches what it forks. */
  readonly detached?: boolean;
  /** Characters of output kept (default 64 Ki); older output is dropped. */
  readonly outputLimit?: number;
  /** Every chunk of output as it arrives (a log file, the VM log), besides the kept tail. */
  readonly onOutput?: (text: string) => void;
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (ENOENT, EACCES). */
  readonly error?: Error;
}

export interface ProbeOptions<T> {
  readonly timeoutMs: number;
  /** Pause between attempts (default 100 ms). */
  readonly intervalMs?: number;
  /** Receives a value an attempt produced after the wait was over (close a late connection). */
  readonly discard?: (late: T) => void;
}

export interface SupervisedChild {
  readonly name: string;
  /** The command's own pid (the launchers exec), -1 if it never started. */
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves once the process is gone (never rejects). */
  readonly exited: Promise<ExitStatus>;
  running(): boolean;
  /** The kept tail of stdout + stderr. */
  output(): string;
  /** Receives output from now on; call the result to stop. */
  tap(listener: (text: string) => void): () => void;
  /** Resolves with the match once the kept output matches `pattern`. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** Resolves with the first value `probe` returns other than undefined; a throw counts as "not yet". */
  waitFor<T>(probe: () => Promise<T | undefined>, opts: ProbeOptions<T>): Promise<T>;
  /** SIGTERM, then SIGKILL after `graceMs` (default 2 s); resolves when the process is gone. */
  stop(graceMs?: number): Promise<ExitStatus>;
  /** SIGKILL (a crash); resolves when the process is gone. */
  kill(): Promise<ExitStatus>;
}

export const DEFAULT_OUTPUT_LIMIT = 64 * 1024;
/** How long output may still arrive after the exit. */
const DRAIN_MS = 1000;
/** Characters of output an error message quotes. */
const ERROR_TAIL = 2000;

export function describeExit(s: ExitStatus): string {
  if (s.error !== undefined) return `not started: ${s.error.message}`;
  return s.signal !== null ? `signal ${s.signal}` : `exit code ${s.code ?? '?'}`;
}

/** Starts the child; a failure to exec shows up in `exited` and in the ready checks. */
export function startChild(opts: ChildOptions): SupervisedChild {
  const run = launchArgv(opts.command, opts.args, opts.launch);
  const child = spawn(run.cmd, run.args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.env === undefined ? {} : { env: opts.env }),
    ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    ...(opts.detached === undefined ? {} : { detached: opts.detached }),
  });
  const tail = new OutputTail(opts.outputLimit ?? DEFAULT_OUTPUT_LIMIT);
  const taps = new Set<(text: string) => void>();
  if (opts.onOutput !== undefined) taps.add(opts.onOutput);
  for (const stream of [child.stdout, child.stderr]) {
    const decoder = new StringDecoder('utf8'); // a UTF-8 character split across chunks stays whole
    stream.on('data', (d: Buffer) => {
      const text = decoder.write(d);
      if (text === '') return;
      tail.append(text);
      for (const t of taps) t(text);
    });
  }
  const drained = Promise.all([child.stdout, child.stderr].map((s) => new Promise((r) => s.once('close', r))));
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => {
      // Output written just before the exit is still in the pipes: read it, but do not wait on a
      // grandchild that inherited them and lives on.
      let t: NodeJS.Timeout | undefined;
      void Promise.race([drained, new Promise((r) => (t = setTimeout(r, DRAIN_MS)))]).then(() => {
        clearTimeout(t);
        resolve({ code, signal });
      });
    });
    // Node emits no 'exit' when the exec itself fails.
    child.once('error', (error) => {
      if (child.pid === undefined) resolve({ code: null, signal: null, error });
    });
  });
  const running = (): boolean => child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  const errorTail = (): string => tail.last(ERROR_TAIL);
  const notRunning = (s: ExitStatus): ProcessError =>
    s.error !== undefined
      ? new ProcessError(ProcessErrorCode.START_FAILED, `cannot start ${opts.name} (${run.cmd}): ${s.error.message}`, '', { cause: s.error })
      : new ProcessError(ProcessErrorCode.EXITED, `${opts.name} exited (${describeExit(s)}) before it was ready`, errorTail());
  const notReady = (timeoutMs: number): ProcessError =>
    new ProcessError(ProcessErrorCode.NOT_READY, `${opts.name} not ready after ${timeoutMs} ms`, errorTail());

  return {
    name: opts.name,
    pid: child.pid ?? -1,
    child,
    exited,
    running,
    output: () => tail.text(),
    tap(listener) {
      taps.add(listener);
      return () => taps.delete(listener);
    },
    waitForOutput(pattern, timeoutMs) {
      return new Promise<RegExpExecArray>((resolve, reject) => {
        let done = false;
        const finish = (fn: () => void): void => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          taps.delete(check);
          fn();
        };
        const check = (): void => {
          // stateful (/g, /y) patterns would resume from lastIndex on a moving tail
          const m = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')).exec(tail.text());
          if (m !== null) finish(() => resolve(m));
        };
        const timer = setTimeout(() => finish(() => reject(notReady(timeoutMs))), timeoutMs);
        taps.add(check);
        void exited.then((s) => finish(() => reject(notRunning(s))));
        check();
      });
    },
    async waitFor<T>(probe: () => Promise<T | undefined>, p: ProbeOptions<T>): Promise<T> {
      const deadline = Date.now() + p.timeoutMs;
      let gone: ExitStatus | undefined;
      void exited.then((s) => (gone = s));
      while (gone === undefined && Date.now() < deadline) {
        let timer: NodeJS.Timeout | undefined;
        let answered = false;
        const attempt = probe().then(
          (v) => ((answered = true), v),
          () => ((answered = true), undefined),
        );
        const expired = new Promise<undefined>((r) => {
          timer = setTimeout(() => r(undefined), Math.max(0, deadline - Date.now()));
        });
        const value = await Promise.race([attempt, expired, exited.then(() => undefined)]);
        clearTimeout(timer);
        if (value !== undefined) return value;
        if (!answered && p.discard !== undefined) {
          const discard = p.discard;
          void attempt.then((late) => late !== undefined && discard(late));
        }
        if (gone === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, p.intervalMs ?? 100));
      }
      throw gone !== undefined ? notRunning(gone) : notReady(p.timeoutMs);
    },
    async stop(graceMs = 2000) {
      if (running()) {
        child.kill('SIGTERM');
        const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const s = await exited;
        clearTimeout(force);
        return s;
      }
      return exited;
    },
    async kill() {
      if (running()) child.kill('SIGKILL');
      return exited;
    },
  };
}
