import { VmcryptError } from '../../errors.js';
import { startChild, type SupervisedChild } from '../../proc/supervisor.js';

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
/** An agent shuts its VMs down on SIGTERM before it exits: give it time before SIGKILL. */
const STOP_GRACE_MS = 15_000;

/**
 * Starts `vmcrypt host serve` for the lab on a free loopback port and waits for its ready line.
 * The child dies with the lab even if the lab is SIGKILLed (pdeathsig), and so do its VMs.
 */
export async function startLabHost(dataDir: string, name: string, readyTimeoutMs = 60_000): Promise<LabHost> {
  // Re-run this same CLI entry (bin/vmcrypt.js, or src/cli/run.ts under tsx) with the same flags.
  const entry = process.argv[1];
  if (entry === undefined) throw new VmcryptError('LAB_HOST_FAILED', 'cannot find the vmcrypt entry point to start a host');
  let child: SupervisedChild | undefined;
  let ready: RegExpExecArray;
  try {
    child = startChild({
      name: `host ${name}`,
      command: process.execPath,
      args: [...process.execArgv, entry, 'host', 'serve', '--data', dataDir, '--name', name, '--listen', '127.0.0.1:0'],
      launch: { diesWithParent: 'prefer' },
    });
    ready = await child.waitForOutput(READY, readyTimeoutMs);
  } catch (err) {
    await child?.kill();
    throw new VmcryptError('LAB_HOST_FAILED', err instanceof Error ? err.message : String(err), { cause: err });
  }
  const agent = child;
  return {
    name,
    pid: agent.pid,
    url: ready[2] ?? '',
    thumbprint: ready[3] ?? '',
    // printed before the ready line, so still within the kept output
    pairingToken: TOKEN.exec(agent.output())?.[1],
    dataDir,
    async stop() {
      await agent.stop(STOP_GRACE_MS);
    },
  };
}
