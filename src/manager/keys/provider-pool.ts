import { KeyProvider, tlsIdentityFromTrust, type FailedAttempt } from '../../keyprovider/index.js';
import { ManagerError } from '../errors.js';
import type { ProviderStore, StoredProvider } from './provider-store.js';

/** The live connections of one key provider. */
export interface ProviderConnections {
  readonly id: string;
  /** Create, Activate, attribute reads, health. */
  readonly control: KeyProvider;
  /**
   * Separate connections for bulk Gets: a KMIP connection answers one message at a time, so
   * several batches are in flight only over several connections (unlock after a power cut).
   */
  readonly fetchers: readonly KeyProvider[];
}

export interface ProviderPoolOptions {
  /** Connections used for bulk Gets per provider (default 4). */
  readonly fetchConnections?: number;
  /** Default hung-service timeout when the provider sets none (vSphere: 60 s). */
  readonly hungTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  readonly downRetryMs?: number;
  readonly onFailover?: (providerId: string, failed: FailedAttempt) => void;
}

/**
 * KeyProvider instances built from the stored servers and trust; the client private key is
 * unsealed with the manager secret only when a provider's connections are built, and is
 * dropped with them (`invalidate` after any change of servers or trust).
 */
export class ProviderPool {
  private readonly live = new Map<string, ProviderConnections>();

  constructor(
    private readonly store: ProviderStore,
    private readonly secret: Buffer,
    private readonly options: ProviderPoolOptions = {},
  ) {}

  get(id: string): ProviderConnections {
    const existing = this.live.get(id);
    if (existing !== undefined) return existing;
    const built = this.build(this.store.require(id));
    this.live.set(id, built);
    return built;
  }

  async invalidate(id: string): Promise<void> {
    const c = this.live.get(id);
    this.live.delete(id);
    if (c !== undefined) await Promise.all([c.control, ...c.fetchers].map((p) => p.close()));
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.live.keys()].map((id) => this.invalidate(id)));
  }

  private build(p: StoredProvider): ProviderConnections {
    if (p.trust.clientIdentity === null || p.trust.trustedServerCerts.length === 0) {
      throw new ManagerError(
        'MANAGER_CONFLICT',
        `key provider ${p.id} is not trusted yet: trust its KMS certificate and set up a client certificate first (rule: provider trust)`,
      );
    }
    let tls;
    try {
      tls = tlsIdentityFromTrust(p.trust, { masterKey: this.secret, context: p.id });
    } catch (err) {
      throw new ManagerError('MANAGER_CONFLICT', `key provider ${p.id}: ${(err as Error).message}`, { cause: err });
    }
    const make = (): KeyProvider =>
      new KeyProvider(
        {
          name: p.id,
          tls,
          servers: p.servers.map((s) => ({ name: s.name, host: s.host, port: s.port })),
          ...(p.hungTimeoutMs ?? this.options.hungTimeoutMs) === undefined ? {} : { hungTimeoutMs: p.hungTimeoutMs ?? this.options.hungTimeoutMs },
          ...(this.options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: this.options.connectTimeoutMs }),
          ...(this.options.downRetryMs === undefined ? {} : { downRetryMs: this.options.downRetryMs }),
        },
        this.options.onFailover === undefined ? {} : { onFailover: (f) => this.options.onFailover?.(p.id, f) },
      );
    const n = Math.max(1, Math.min(16, this.options.fetchConnections ?? 4));
    return { id: p.id, control: make(), fetchers: Array.from({ length: n }, make) };
  }
}
