import type { ChildProcess } from 'node:child_process';
import { access } from 'node:fs/promises';
import { ProcessError, ProcessErrorCode } from '../../proc/errors.js';
import type { LaunchOptions } from '../../proc/launcher.js';
import { describeExit, startChild, type SupervisedChild } from '../../proc/supervisor.js';
import { SecretFifos } from './secret-fifo.js';
import { HostError } from '../errors.js';
import { QmpClient } from './qmp.js';
import { buildQemuArgv, countSecrets, type QemuMachine } from './qemu-argv.js';

export const QEMU_BINARY = process.env['VMCRYPT_QEMU'] ?? 'qemu-system-x86_64';
/** How long a started QEMU has to open its QMP socket and greet. */
export const QMP_READY_TIMEOUT_MS = 30_000;

/**
 * What QEMU is exec'd through (each tool execs the next, so the pid stays QEMU's):
 * - pdeathsig (required): when the agent dies, even by SIGKILL, the kernel kills its QEMUs —
 *   no orphan keeps running with disk keys in its memory, and a restarted agent (= rebooted
 *   host) finds every VM powered off.
 * - core limit 0: a crashing QEMU leaves no core file (it would hold the disk keys and guest
 *   RAM in clear).
 * - line-buffered stdout: HMP `qemu-io` prints its results with printf to QEMU's stdout; line
 *   buffering makes them arrive while the VM runs instead of at exit.
 */
export const QEMU_LAUNCH = { diesWithParent: 'require', coreLimit: 0, lineBufferedStdout: true } as const satisfies LaunchOptions;

export interface RunningQemu {
  readonly pid: number;
  readonly qmp: QmpClient;
  readonly child: ChildProcess;
  /** Resolves with QEMU's exit description when the process is gone. */
  readonly exited: Promise<string>;
  /** Receives QEMU's stdout/stderr text from now on; call the result to stop. */
  tapOutput(listener: (text: string) => void): () => void;
}

/**
 * Starts QEMU for `machine`. `secretFor(disk, layer)` returns the LUKS passphrase bytes
 * (hex of the layer's DEK) for each encrypted layer; they go through FIFOs in `secretDir`
 * which QEMU reads as `-object secret,file=FIFO`: never on a command line, never on disk.
 * The passphrase buffers are zeroed once written. `onOutput` receives QEMU's stderr/stdout.
 */
export async function startQemu(
  machine: QemuMachine,
  secretDir: string,
  secretFor: (disk: number, layer: number) => Buffer,
  onOutput: (text: string) => void,
  qmpTimeoutMs = QMP_READY_TIMEOUT_MS,
): Promise<RunningQemu> {
  const fifos = await SecretFifos.create(secretDir, countSecrets(machine));
  const { argv, secrets } = buildQemuArgv(machine, fifos.paths);
  let qemu: SupervisedChild;
  try {
    qemu = startChild({ name: 'QEMU', command: QEMU_BINARY, args: argv, launch: QEMU_LAUNCH, onOutput });
  } catch (err) {
    await fifos.remove();
    throw new HostError('HOST_QEMU_FAILED', `cannot start ${QEMU_BINARY}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const gone = (): boolean => !qemu.running();
  const passphrases: Buffer[] = [];
  try {
    for (const s of secrets) passphrases.push(secretFor(s.disk, s.layer));
    await fifos.feed(passphrases, () => !gone());
  } catch (err) {
    for (const p of passphrases) p.fill(0); // also those made before secretFor threw
    await qemu.kill();
    throw err instanceof HostError && gone() ? new HostError('HOST_QEMU_FAILED', `QEMU failed to start: ${lastLines(qemu.output())}`) : err;
  } finally {
    await fifos.remove();
  }
  let qmp: QmpClient;
  try {
    qmp = await qemu.waitFor(() => connectQmp(machine.qmpSocket), { timeoutMs: qmpTimeoutMs, intervalMs: 50, discard: (late) => late.close() });
  } catch (err) {
    // a QEMU we cannot control must not keep running (with its disks open and keys loaded)
    await qemu.kill();
    throw qmpFailure(err, qemu, describeExit(await qemu.exited));
  }
  return {
    pid: qemu.pid, qmp, child: qemu.child,
    exited: qemu.exited.then(describeExit),
    tapOutput: (listener) => qemu.tap(listener),
  };
}

/** One attempt: undefined until QEMU made its socket; a connection that fails or never greets throws. */
async function connectQmp(path: string): Promise<QmpClient | undefined> {
  try {
    await access(path);
  } catch {
    return undefined;
  }
  return QmpClient.connect(path);
}

function qmpFailure(err: unknown, qemu: SupervisedChild, how: string): HostError {
  if (!(err instanceof ProcessError)) return err instanceof HostError ? err : new HostError('HOST_QEMU_FAILED', String(err), { cause: err });
  switch (err.code) {
    case ProcessErrorCode.START_FAILED:
      return new HostError('HOST_QEMU_FAILED', `cannot start ${QEMU_BINARY}: ${err.message}`, { cause: err });
    case ProcessErrorCode.EXITED:
      return new HostError('HOST_QEMU_FAILED', `QEMU stopped (${how}) while starting: ${lastLines(qemu.output())}`, { cause: err });
    default:
      return new HostError('HOST_QEMU_FAILED', `QEMU did not answer on its QMP socket: ${lastLines(qemu.output())}`, { cause: err });
  }
}

function lastLines(text: string): string {
  const lines = text.trim().split('\n');
  return lines.slice(-3).join(' | ').slice(0, 600) || '(no output)';
}
