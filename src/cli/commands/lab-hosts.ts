import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { VmcryptError } from '../../errors.js';
import { diesWithParent } from '../../kms/store/etcd-cluster-child.js';

/** A host agent of the lab, running as its own process (a host is a machine of its own). */
export interface LabHost {
  readonly name: string;
  readonly pid: number;
  readonly url: string;
  readonly thumbprint: string;
  /** One-time pairing token; undefined when the host was paired on an earlier run. */
  readonly pairingToken: string | undefined;
  readonly dataDir: string;
  stop(): Promise<void>;
}

const READY = /host agent (\S+) listening on (https:\/\/\S+) thumbprint=([0-9a-f:]+)/i;
const TOKEN = /pairing token[^:]*: ([0-9a-f]+)/i;

/**
 * Starts `vmcrypt host serve` for the lab on a free loopback port and waits for its ready line.
 * The child dies with the lab even if the lab is SIGKILLed (diesWithParent), and so do its VMs.
 */
export async function startLabHost(dataDir: string, name: string, readyTimeoutMs = 60_000): Promise<LabHost> {
  // Re-run this same CLI entry (bin/vmcrypt.js, or src/cli/run.ts under tsx) with the same flags.
  const entry = process.argv[1];
  if (entry === undefined) throw new VmcryptError('LAB_HOST_FAILED', 'cannot find the vmcrypt entry point to start a host');
  const { cmd, args } = diesWithParent(process.execPath, [
    ...process.execArgv, entry, 'host', 'serve', '--data', dataDir, '--name', name, '--listen', '127.0.0.1:0',
  ]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const ready = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new VmcryptError('LAB_HOST_FAILED', `host ${name} did not start within ${readyTimeoutMs} ms:\n${out}`));
    }, readyTimeoutMs);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = READY.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new VmcryptError('LAB_HOST_FAILED', `host ${name} exited (${code ?? sig}) before it was ready:\n${out}`));
    });
  });
  const exited = once(child, 'exit');
  return {
    name,
    pid: child.pid ?? -1,
    url: ready[2] ?? '',
    thumbprint: ready[3] ?? '',
    pairingToken: TOKEN.exec(out)?.[1],
    dataDir,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(force);
    },
  };
}
