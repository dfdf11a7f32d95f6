import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Keeps the master key and unsealed keys out of core files: RLIMIT_CORE = 0 for this process
 * (util-linux `prlimit` on our own pid; Node has no setrlimit), as the host agent does. Swap:
 * Node cannot mlock its heap without a native addon, so the KMS relies on the platform — run it
 * with swap off or in a cgroup with `MemorySwapMax=0` (systemd), as docs/kms.md says.
 * Returns what it could not do, for a warning line; never fails the start.
 */
export async function hardenKmsProcess(): Promise<string[]> {
  const problems: string[] = [];
  try {
    await run('prlimit', ['--pid', String(process.pid), '--core=0']);
  } catch (err) {
    problems.push(`core dumps could not be disabled (prlimit): ${err instanceof Error ? err.message : String(err)}`);
  }
  return problems;
}

/** The current core-size limit of this process as /proc reports it ("0" once hardened). */
export async function coreLimitOfSelf(): Promise<string | undefined> {
  const { readFile } = await import('node:fs/promises');
  const limits = await readFile('/proc/self/limits', 'utf8').catch(() => '');
  return /^Max core file size\s+(\S+)/m.exec(limits)?.[1];
}
