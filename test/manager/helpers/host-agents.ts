import { vmcryptArgv } from '../../helpers/cli.js';
import { freePort } from '../../helpers/net.js';
import { startProcess } from '../../helpers/process.js';
import type { AgentProcess } from '../../host/harness.js';
import type { ManagerApi } from './manager-api.js';

export type { AgentProcess };

const READY = /listening on (\S+) thumbprint=([0-9a-f]{64})/;

/** Starts `vmcrypt host serve` as a real process; give `port` to restart an agent where the manager knows it; `extra` flags (e.g. --no-migrate-encryption). */
export async function startAgent(dataDir: string, name: string, port?: number, extra: readonly string[] = []): Promise<AgentProcess & { port: number }> {
  const p = port ?? (await freePort());
  const proc = await startProcess(process.execPath, [...vmcryptArgv(), 'host', 'serve', '--data', dataDir, '--name', name, '--listen', `127.0.0.1:${p}`, ...extra], {
    ready: READY, readyTimeoutMs: 60_000,
  });
  const m = READY.exec(proc.output());
  const t = /pairing token[^:]*\): ([0-9a-f]{32})/.exec(proc.output());
  return { proc, url: m?.[1] ?? '', thumbprint: m?.[2] ?? '', pairingToken: t?.[1], port: p };
}

export interface AddedHost {
  readonly id: string;
  readonly name: string;
  readonly connectionState: string;
  readonly cryptoMode: string;
}

/** The operator's way: probe the thumbprint, compare it with the one the agent printed, add with the pairing token. */
export async function addHostToManager(api: ManagerApi, agent: AgentProcess, clusterId?: string): Promise<AddedHost> {
  const probe = await api.post<{ thumbprint: string }>('/api/hosts/probe', { url: agent.url });
  if (probe.thumbprint !== agent.thumbprint) throw new Error(`probe saw ${probe.thumbprint}, the agent printed ${agent.thumbprint}`);
  return api.post<AddedHost>('/api/hosts', {
    url: agent.url, thumbprint: probe.thumbprint,
    ...(agent.pairingToken === undefined ? {} : { pairingToken: agent.pairingToken }),
    ...(clusterId === undefined ? {} : { clusterId }),
  });
}
