import { spawn, type ChildProcess } from 'node:child_process';
import { access } from 'node:fs/promises';
import { SecretFifos } from './secret-fifo.js';
import { HostError } from '../errors.js';
import { QmpClient } from './qmp.js';
import { buildQemuArgv, countSecrets, type QemuMachine } from './qemu-argv.js';

export const QEMU_BINARY = process.env['VMCRYPT_QEMU'] ?? 'qemu-system-x86_64';
const MAX_CAPTURED_OUTPUT = 64 * 1024;
/** How long a started QEMU has to open its QMP socket and greet. */
export const QMP_READY_TIMEOUT_MS = 30_000;

/**
 * What QEMU is exec'd through (each tool execs the next, so the pid stays QEMU's):
 * - `setpriv --pdeathsig KILL` (prctl PR_SET_PDEATHSIG): when the agent dies, even by SIGKILL,
 *   the kernel kills its QEMUs — no orphan keeps running with disk keys in its memory, and a
 *   restarted agent (= rebooted host) finds every VM powered off.
 * - `prlimit --core=0`: a crashing QEMU leaves no core file (it would hold the disk keys and
 *   guest RAM in clear).
 * - `stdbuf -oL`: HMP `qemu-io` prints its results with printf to QEMU's stdout; line
 *   buffering makes them arrive while the VM runs instead of at exit.
 */
export const QEMU_LAUNCHER = ['setpriv', '--pdeathsig', 'KILL', '--', 'prlimit', '--core=0', '--', 'stdbuf', '-oL'] as const;

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
  const child = spawn(QEMU_LAUNCHER[0], [...QEMU_LAUNCHER.slice(1), QEMU_BINARY, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let captured = '';
  const taps = new Set<(text: string) => void>();
  const capture = (d: Buffer): void => {
    const text = d.toString('utf8');
    if (captured.length < MAX_CAPTURED_OUTPUT) captured += text;
    for (const t of taps) t(text);
    onOutput(text);
  };
  child.stdout?.on('data', capture);
  child.stderr?.on('data', capture);
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal !== null ? `signal ${signal}` : `exit code ${code ?? '?'}`));
  });
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new HostError('HOST_QEMU_FAILED', `cannot start ${QEMU_BINARY}: ${err.message}`)));
  });
  spawnError.catch(() => undefined);
  const gone = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const passphrases: Buffer[] = [];
  try {
    for (const s of secrets) passphrases.push(secretFor(s.disk, s.layer));
    await fifos.feed(passphrases, () => !gone());
  } catch (err) {
    for (const p of passphrases) p.fill(0); // also those made before secretFor threw
    child.kill('SIGKILL');
    throw err instanceof HostError && gone() ? new HostError('HOST_QEMU_FAILED', `QEMU failed to start: ${lastLines(captured)}`) : err;
  } finally {
    await fifos.remove();
  }
  const failed = exited.then((how) => {
    throw new HostError('HOST_QEMU_FAILED', `QEMU stopped (${how}) while starting: ${lastLines(captured)}`);
  });
  failed.catch(() => undefined);
  let qmp: QmpClient;
  try {
    qmp = await Promise.race([connectWhenReady(machine.qmpSocket, gone, qmpTimeoutMs), failed, spawnError]);
  } catch (err) {
    // a QEMU we cannot control must not keep running (with its disks open and keys loaded)
    child.kill('SIGKILL');
    throw err;
  }
  return {
    pid: child.pid ?? -1, qmp, child, exited,
    tapOutput(listener) {
      taps.add(listener);
      return () => taps.delete(listener);
    },
  };
}

/** Connects to QMP once QEMU made its socket; bounded (a QEMU that never greets is given up on). */
async function connectWhenReady(path: string, gone: () => boolean, timeoutMs: number): Promise<QmpClient> {
  const deadline = Date.now() + timeoutMs;
  while (!gone() && Date.now() < deadline) {
    try {
      await access(path);
      const attempt = QmpClient.connect(path);
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          attempt.then((late) => late.close(), () => undefined);
          reject(new Error('no QMP greeting'));
        }, Math.max(0, deadline - Date.now()));
      });
      try {
        return await Promise.race([attempt, expired]);
      } finally {
        clearTimeout(timer);
      }
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new HostError('HOST_QEMU_FAILED', gone() ? 'QEMU exited before its QMP socket was ready' : 'QEMU did not answer on its QMP socket');
}

function lastLines(text: string): string {
  const lines = text.trim().split('\n');
  return lines.slice(-3).join(' | ').slice(0, 600) || '(no output)';
}
