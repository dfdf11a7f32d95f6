import { VmcryptError } from '../../errors.js';
import { startComponent, type LabChild } from './children.js';

/** Ready lines the components print (src/cli/commands/{kms,manager,host}.ts). */
const KMS_READY = /kms listening on \S+:(\d+)/;
const MANAGER_READY = /manager listening on (https:\/\/\S+) thumbprint=([0-9a-f]{64})/;
const HOST_READY = /host agent (\S+) listening on (https:\/\/\S+) thumbprint=([0-9a-f:]+)/i;
const PAIRING_TOKEN = /pairing token[^:]*: ([0-9a-f]+)/i;
/** An agent shuts its VMs down on SIGTERM before it exits: give it time before SIGKILL. */
const HOST_STOP_GRACE_MS = 15_000;

export async function startLabKms(o: { dataDir: string; port: number; logDir: string; autoUnsealFile: string }): Promise<LabChild> {
  return startComponent({
    name: 'kms', logDir: o.logDir, ready: KMS_READY,
    args: ['kms', 'serve', '--data', o.dataDir, '--auto-unseal-file', o.autoUnsealFile, '--listen', `127.0.0.1:${o.port}`, '--store', 'sqlite'],
  });
}

export interface LabManagerProcess extends LabChild {
  readonly url: string;
  readonly thumbprint: string;
}

/** The manager polls its hosts every second so the tour shows lock/unlock without a long wait. */
export async function startLabManager(o: { name: string; dataDir: string; port: number; logDir: string }): Promise<LabManagerProcess> {
  const c = await startComponent({
    name: o.name, logDir: o.logDir, ready: MANAGER_READY,
    args: ['manager', 'serve', '--data', o.dataDir, '--listen', `127.0.0.1:${o.port}`, '--poll-ms', '1000', '--key-retry-ms', '1000'],
  });
  return { ...c, url: c.match[1] ?? '', thumbprint: c.match[2] ?? '' };
}

export interface LabHostProcess extends LabChild {
  readonly url: string;
  /** SHA-256 of the agent's certificate, hex without colons (what the manager's probe returns). */
  readonly thumbprint: string;
  /** One-time pairing token; undefined when the agent was paired on an earlier run. */
  readonly pairingToken: string | undefined;
}

export async function startLabHostAgent(o: { name: string; dataDir: string; port: number; logDir: string }): Promise<LabHostProcess> {
  let c: LabChild;
  try {
    c = await startComponent({
      name: o.name, logDir: o.logDir, ready: HOST_READY, stopGraceMs: HOST_STOP_GRACE_MS,
      args: ['host', 'serve', '--data', o.dataDir, '--name', o.name, '--listen', `127.0.0.1:${o.port}`],
    });
  } catch (err) {
    // docs/cli.md names this code for a lab host agent that would not start
    throw new VmcryptError('LAB_HOST_FAILED', err instanceof Error ? err.message : String(err), { cause: err });
  }
  return {
    ...c,
    url: c.match[2] ?? '',
    thumbprint: (c.match[3] ?? '').replace(/:/g, '').toLowerCase(),
    // printed before the ready line, so still within the kept output
    pairingToken: PAIRING_TOKEN.exec(c.child.output())?.[1],
  };
}
