import { existsSync } from 'node:fs';

/** util-linux (Debian essential): sets PR_SET_PDEATHSIG, then execs the command in the same process. */
const SETPRIV = '/usr/bin/setpriv';

/**
 * The command line that runs `cmd args` as a child that the kernel SIGKILLs when its parent
 * dies, however the parent dies (SIGKILL included, when no handler of ours can run). Used for
 * the etcd members and KMS nodes of a local cluster, so a hard-killed `kms cluster up` (or
 * test) leaves no orphans holding ports and data dirs. The child keeps its pid: setpriv execs.
 * Without setpriv (not Linux), the command runs as is and only a graceful stop cleans up.
 * Linux sends the signal when the *thread* that spawned the child ends: spawn from the main
 * thread (as the CLI and tests do), not from a short-lived worker_thread.
 */
export function diesWithParent(cmd: string, args: readonly string[]): { cmd: string; args: string[] } {
  if (process.platform !== 'linux' || !existsSync(SETPRIV)) return { cmd, args: [...args] };
  return { cmd: SETPRIV, args: ['--pdeathsig', 'KILL', '--', cmd, ...args] };
}
