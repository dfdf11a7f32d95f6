import { randomUUID } from 'node:crypto';
import { attr, AttributeName } from '../kmip/attributes.js';
import type { ProtocolVersion } from '../kmip/message/protocol-version.js';
import type { BatchOutcome, OpCall, ResultOf } from '../kmip/client/call.js';
import { KmipClient } from '../kmip/client/client.js';
import { KmipOperations } from '../kmip/client/promise-api.js';
import { KmipClientError } from '../kmip/client/errors.js';
import { locateCall } from '../kmip/client/calls/attributes.js';
import { createKeyCall, type CreateKeySpec } from '../kmip/client/calls/keys.js';
import { discoverVersionsCall } from '../kmip/client/calls/server.js';
import { checkServerHealth, HealthStatus, type HealthCheckOptions, type ServerHealth } from '../kmip/client/health.js';
import { resolveProviderConfig, type KeyProviderConfig, type KeyServerConfig, type ResolvedKeyProviderConfig } from './config.js';
import type { FailedAttempt } from './errors.js';
import { DownList, failureKind, FailureKind, runWithFailover, systemClock, type Clock } from './failover.js';

/**
 * Prefix of the extra Name every `KeyProvider.create` gives its key: "vmcrypt-create-<uuid>",
 * one per call. It makes a Create retried on the next server idempotent (see `create`).
 */
export const CREATE_TAG_PREFIX = 'vmcrypt-create-';

type ResolvedServer = ResolvedKeyProviderConfig['servers'][number];

export interface KeyProviderDeps {
  readonly clock?: Clock;
  /** Makes the client of one server; default: a persistent mTLS KmipClient with the provider's timeouts. */
  readonly connect?: (server: ResolvedServer, config: ResolvedKeyProviderConfig) => KmipClient;
  /** Told each time a server is given up on (the manager logs it / raises events). */
  readonly onFailover?: (failed: FailedAttempt) => void;
  readonly protocolVersion?: ProtocolVersion;
}

/** Health of every server of a provider; `status` is the worst that still lets it work. */
export interface ProviderHealth {
  readonly provider: string;
  /** ok: every server ok · warning: some server down or a certificate expiring, but one answers · error: none answers. */
  readonly status: HealthStatus;
  readonly servers: readonly (ServerHealth & { readonly name: string })[];
}

/**
 * A key provider (vSphere "KMS cluster"): a named, ordered list of key servers that replicate
 * their keys. Every operation goes to the first usable server; refused/unreachable servers are
 * skipped at once, hung ones after the hung-service timeout, and a server that failed is tried
 * last for a while (docs/key-providers.md). One persistent connection per server.
 */
export class KeyProvider extends KmipOperations {
  readonly config: ResolvedKeyProviderConfig;
  private readonly clients = new Map<string, KmipClient>();
  private readonly down: DownList;
  private readonly clock: Clock;

  constructor(
    config: KeyProviderConfig,
    private readonly deps: KeyProviderDeps = {},
  ) {
    super();
    this.config = resolveProviderConfig(config);
    this.clock = deps.clock ?? systemClock;
    this.down = new DownList(this.config.downRetryMs, this.clock);
  }

  get name(): string {
    return this.config.name;
  }

  /** Runs `fn` with the client of the first usable server (failover as described above). */
  run<T>(fn: (client: KmipClient, server: KeyServerConfig) => Promise<T>): Promise<T> {
    return runWithFailover({
      provider: this.config.name,
      servers: this.config.servers.map((s) => ({ ...s, address: `${s.host}:${s.port}` })),
      down: this.down,
      clock: this.clock,
      attempt: (s) => fn(this.clientFor(s), s),
      ...(this.deps.onFailover === undefined ? {} : { onFailover: this.deps.onFailover }),
    });
  }

  override send<T>(call: OpCall<T>): Promise<T> {
    return this.run((c) => c.send(call));
  }

  /** One batch message to one server (the whole batch fails over together). */
  batch<const C extends readonly OpCall<unknown>[]>(calls: C): Promise<{ -readonly [K in keyof C]: BatchOutcome<ResultOf<C[K]>> }> {
    return this.run((c) => c.batch(calls));
  }

  discoverVersions(): Promise<ProtocolVersion[]> {
    return this.send(discoverVersionsCall());
  }
  /**
   * Creates an AES key on the first usable server. A Create whose server died or hung after the
   * request was written may have been applied there (and replicated): before creating again on
   * the next server, the provider looks for the key by the call's own tag (an extra Name,
   * CREATE_TAG_PREFIX + uuid, after the caller's name) and returns it if it exists, so one call
   * never leaves two keys behind, one of them unknown to the caller but bearing its name.
   */
  create(spec: CreateKeySpec = {}): Promise<string> {
    const tag = `${CREATE_TAG_PREFIX}${randomUUID()}`;
    // Attribute Index of this Name instance: the caller's names come first (PyKMIP requires it).
    const names = (spec.name === undefined ? 0 : 1) + (spec.attributes ?? []).filter((a) => a.name === AttributeName.Name).length;
    const tagAttr = names === 0 ? attr.name(tag) : { ...attr.name(tag), index: names };
    const call = createKeyCall({ ...spec, attributes: [...(spec.attributes ?? []), tagAttr] });
    let mayExist = false;
    return this.run(async (c) => {
      if (mayExist) {
        const [found] = await c.send(locateCall({ name: tag, maximumItems: 1 }));
        if (found !== undefined) return found;
      }
      try {
        return await c.send(call);
      } catch (err) {
        // Only when the request may have arrived: a refused connect or a failed handshake sent
        // nothing, and a Locate is not free (a KMS scans its keys for it).
        const kind = failureKind(err);
        const arrived = err instanceof KmipClientError && err.requestMayHaveArrived;
        if (arrived || kind === FailureKind.hung || kind === FailureKind.lost || kind === FailureKind.protocol) mayExist = true;
        throw err;
      }
    });
  }

  /** Checks every server at once (no failover): Discover Versions, latency, certificate expiry. */
  async health(options: HealthCheckOptions = {}): Promise<ProviderHealth> {
    const servers = await Promise.all(
      this.config.servers.map(async (s) => {
        const h = await checkServerHealth(this.clientFor(s), { timeoutMs: this.config.hungTimeoutMs, ...options });
        return { name: s.name, ...h };
      }),
    );
    const answering = servers.filter((s) => s.status !== HealthStatus.error).length;
    const status =
      answering === 0
        ? HealthStatus.error
        : servers.every((s) => s.status === HealthStatus.ok)
          ? HealthStatus.ok
          : HealthStatus.warning;
    return { provider: this.config.name, status, servers };
  }

  /** Closes every server connection. */
  async close(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map((c) => c.close()));
  }

  private clientFor(server: ResolvedServer): KmipClient {
    let c = this.clients.get(server.name);
    if (c === undefined) {
      c = this.deps.connect?.(server, this.config) ??
        KmipClient.connect({
          host: server.host,
          port: server.port,
          tls: server.tls,
          connectTimeoutMs: this.config.connectTimeoutMs,
          responseTimeoutMs: this.config.hungTimeoutMs,
          ...(this.deps.protocolVersion === undefined ? {} : { protocolVersion: this.deps.protocolVersion }),
        });
      this.clients.set(server.name, c);
    }
    return c;
  }
}
