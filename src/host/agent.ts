import { createServer, type Server } from 'node:https';
import { rm } from 'node:fs/promises';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { listCoreDumps, writeCoreDump, writeDiagnosticsStatus } from './keys/coredump.js';
import { setSecretDir } from './qemu/disk-images.js';
import { HostError } from './errors.js';
import { HostEvents, type HostEvent } from './events.js';
import { HostStore } from './host-store.js';
import { HostVms } from './vm/host-vms.js';
import { KeyCache } from './keys/key-cache.js';
import { disableNativeCoreDumps } from './keys/native-core.js';
import { Pairing, peerCertificateProblem, peerFingerprint } from './api/pairing.js';
import { matchRoute } from './api/routes.js';
import { readJsonBody, reqString, sendError, sendJson } from './api/http-util.js';
import { loadOrCreateIdentity } from './api/agent-certificate.js';
import type { HostContext } from './vm/vm-open.js';
import { testFaultsFrom } from './test-faults.js';
import { makePrivateDir, writePrivateFile } from '../fs/private-files.js';
import { HostMigrations, migrationsOf } from './migration/host-migrations.js';

export const AGENT_VERSION = '0.1.0';
export const AGENT_PID_FILE = 'agent.pid';
/** Simultaneous connections to the API (one manager needs a handful). */
export const MAX_CONNECTIONS = 128;

export interface AgentOptions {
  readonly dataDir: string;
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly managerFingerprint?: string;
  /** Test hook: enables POST /v1/debug/crash. */
  readonly allowCrash?: boolean;
  /** `--no-migrate-encryption`: this host cannot encrypt migrations (plain channel only). */
  readonly noMigrateEncryption?: boolean;
  readonly print: (line: string) => void;
}

export interface RunningAgent {
  readonly url: string;
  readonly thumbprint: string;
  readonly server: Server;
  readonly cache: KeyCache;
  readonly vms: HostVms;
  readonly store: HostStore;
  /** Powers off VMs, zeroes the key cache, closes the server. */
  stop(): Promise<void>;
  /** Writes a core dump now (SIGUSR2, crash handler). */
  dump(reason: string): Promise<void>;
}

/**
 * Starts the host agent: state, TLS identity, key cache (empty: a restarted agent = a
 * rebooted host, every encrypted VM locked until the manager pushes keys), stale QEMU
 * reaping, core dump report, then the mutual-TLS API.
 */
export async function startHostAgent(opts: AgentOptions): Promise<RunningAgent> {
  await disableNativeCoreDumps();
  const store = await HostStore.open(opts.dataDir, opts.name);
  const identity = await loadOrCreateIdentity(opts.dataDir, opts.name);
  const cache = new KeyCache();
  const events = new HostEvents((e: HostEvent) => {
    if (e.type === 'coredump.exists') opts.print(`${e.message}: ${e.file} in ${e.location}`);
  });
  const runDir = join(opts.dataDir, 'run');
  await makePrivateDir(runDir);
  setSecretDir(runDir);
  // TEST-ONLY fault injection: read only when the agent runs with its test flag
  const faults = testFaultsFrom(process.env, opts.allowCrash === true);
  const ctx: HostContext = { store, cache, events, runDir, faults };
  const vms = new HostVms(ctx);
  await vms.dropUnarrived();
  vms.loadIndex();
  await vms.runtime.reapStale();
  new HostMigrations(vms, { encryption: opts.noMigrateEncryption !== true, listenHost: opts.host, allowCrash: opts.allowCrash === true });
  const pairing = await Pairing.open(store);
  const pinWarning = opts.managerFingerprint === undefined ? undefined : await pairing.pinFromFlag(opts.managerFingerprint);
  if (pinWarning !== undefined) opts.print(pinWarning);

  for (const d of await listCoreDumps(opts.dataDir)) {
    if (d.encrypted) events.post('coredump.exists', 'encrypted core dump exists', { file: d.file, location: d.location });
    else events.post('coredump.plain', 'core dump exists (not encrypted)', { file: d.file, location: d.location });
  }

  const deps = { store, cache, events, vms, thumbprint: identity.thumbprint, version: AGENT_VERSION, allowCrash: opts.allowCrash === true };
  const server = createServer(
    { key: identity.keyPem, cert: identity.certPem, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' },
    (req, res) => {
      void (async () => {
        try {
          const path = new URL(req.url ?? '/', 'https://host').pathname;
          const fp = peerFingerprint(req.socket as TLSSocket);
          if (req.method === 'POST' && path === '/v1/pair') {
            await pairing.pair(fp, reqString(await readJsonBody(req), 'token', 64), peerCertificateProblem(req.socket as TLSSocket));
            events.post('host.paired', 'host added to a manager (client certificate pinned)');
            sendJson(res, 200, { paired: true, name: store.state.name, thumbprint: identity.thumbprint });
            return;
          }
          pairing.authorize(fp, peerCertificateProblem(req.socket as TLSSocket));
          const { handler, params } = matchRoute(req.method ?? 'GET', path);
          await handler(req, res, params, deps);
        } catch (err) {
          sendError(res, err);
        }
      })();
    },
  );
  // bounds for untrusted peers: connection count (idle TLS connections cost memory) and the
  // time to send a request (bodies are ≤ 1 MiB); responses may take longer (bulk ops)
  server.maxConnections = MAX_CONNECTIONS;
  server.headersTimeout = 30_000;
  server.requestTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port;
  await writePrivateFile(join(opts.dataDir, AGENT_PID_FILE), String(process.pid));
  const url = `https://${opts.host}:${port}`;
  if (!pairing.paired) opts.print(`pairing token (one-time, also in ${join(opts.dataDir, 'pairing-token')}): ${pairing.token ?? ''}`);
  opts.print(`host agent ${opts.name} listening on ${url} thumbprint=${identity.thumbprint}`);

  let stopped = false;
  return {
    url, thumbprint: identity.thumbprint, server, cache, vms, store,
    async stop() {
      if (stopped) return;
      stopped = true;
      server.close();
      server.closeAllConnections();
      // keys first: powering off needs none, and a slow power-off must not keep them alive
      cache.clear();
      await migrationsOf(vms).abortAll().catch(() => undefined);
      await vms.runtime.powerOffAll();
      await rm(join(opts.dataDir, AGENT_PID_FILE), { force: true });
    },
    async dump(reason: string) {
      const at = new Date().toISOString();
      try {
        const d = await writeCoreDump(store, cache, reason);
        opts.print(`core dump written: ${d.file} in ${d.location}${d.encrypted ? ` (encrypted with host key ${d.keyId ?? '?'})` : ' (not encrypted)'}`);
        await writeDiagnosticsStatus(opts.dataDir, { at, ok: true, dump: d });
      } catch (err) {
        const message = err instanceof HostError ? err.message : `core dump failed: ${String(err)}`;
        opts.print(message);
        await writeDiagnosticsStatus(opts.dataDir, { at, ok: false, code: err instanceof HostError ? err.code : 'HOST_INTERNAL', message }).catch(() => undefined);
      }
    },
  };
}
