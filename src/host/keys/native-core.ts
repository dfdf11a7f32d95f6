import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { HostError } from '../errors.js';

const run = promisify(execFile);

/**
 * Sets this process's RLIMIT_CORE to 0 (util-linux `prlimit` on our own pid; Node has no
 * setrlimit). A native crash of the agent (SIGSEGV, abort) must not leave the key cache in a
 * clear core file; the agent's own dumps are sealed with the host key instead (coredump.ts).
 * Children (QEMU, qemu-img) inherit the limit.
 */
export async function disableNativeCoreDumps(): Promise<void> {
  try {
    await run('prlimit', ['--pid', String(process.pid), '--core=0']);
  } catch (err) {
    throw new HostError('HOST_SETUP', `cannot disable native core dumps (prlimit): ${err instanceof Error ? err.message : String(err)}`);
  }
}
