import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ProcessError, ProcessErrorCode } from './errors.js';

/**
 * How a child is exec'd. Each wrapper execs the next, so the pid the caller sees stays the
 * command's own and signals sent to it reach the command.
 */
export interface LaunchOptions {
  /**
   * `setpriv --pdeathsig KILL` (prctl PR_SET_PDEATHSIG): the kernel SIGKILLs the child when its
   * parent dies, however it dies (SIGKILL included, when no handler of ours can run), so no
   * orphan keeps ports, data dirs or keys in memory. 'require' fails without setpriv;
   * 'prefer' runs the command as is where setpriv does not exist (not Linux), and then only a
   * graceful stop cleans up. Linux sends the signal when the *thread* that spawned the child
   * ends: spawn from the main thread, not from a short-lived worker_thread.
   */
  readonly diesWithParent?: 'require' | 'prefer';
  /** `prlimit --core=N`: 0 means a crashing child leaves no core file (it would hold keys in clear). */
  readonly coreLimit?: number;
  /** `stdbuf -oL`: the child's printf output arrives line by line while it runs, not at exit. */
  readonly lineBufferedStdout?: boolean;
}

export interface LaunchArgv {
  readonly cmd: string;
  readonly args: string[];
}

const found = new Map<string, string | undefined>();

/** Absolute path of `tool` on PATH (util-linux and coreutils live in /usr/bin on Debian), or undefined. */
export function findTool(tool: string): string | undefined {
  if (found.has(tool)) return found.get(tool);
  let hit: string | undefined;
  const dirs = (process.env['PATH'] ?? '').split(delimiter).filter((d) => d !== '');
  for (const dir of [...dirs, '/usr/bin', '/bin']) {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      hit = join(dir, tool);
      break;
    } catch {
      // not in this directory
    }
  }
  found.set(tool, hit);
  return hit;
}

function required(tool: string, why: string): string {
  const path = findTool(tool);
  if (path === undefined) throw new ProcessError(ProcessErrorCode.START_FAILED, `${tool} is not installed; it is needed ${why}`);
  return path;
}

/** The command line that runs `cmd args` under the wrappers `opts` asks for. */
export function launchArgv(cmd: string, args: readonly string[], opts: LaunchOptions = {}): LaunchArgv {
  const prefix: string[] = [];
  if (opts.diesWithParent !== undefined) {
    const setpriv = process.platform === 'linux' ? findTool('setpriv') : undefined;
    if (setpriv !== undefined) prefix.push(setpriv, '--pdeathsig', 'KILL', '--');
    else if (opts.diesWithParent === 'require') required('setpriv', 'so that the child dies with its parent');
  }
  // A requested limit is never dropped silently: without prlimit the start fails.
  if (opts.coreLimit !== undefined) prefix.push(required('prlimit', 'to limit core files'), `--core=${opts.coreLimit}`, '--');
  if (opts.lineBufferedStdout === true) prefix.push(required('stdbuf', 'for line-buffered output'), '-oL');
  const [first, ...rest] = [...prefix, cmd, ...args];
  return { cmd: first ?? cmd, args: rest };
}

/** `cmd args` as a child the kernel kills with its parent where setpriv exists (see LaunchOptions). */
export function diesWithParent(cmd: string, args: readonly string[]): LaunchArgv {
  return launchArgv(cmd, args, { diesWithParent: 'prefer' });
}
