import type { TlsIdentity } from '../kmip/client/client-credentials.js';
import { KeyProviderError, KeyProviderErrorCode } from './errors.js';

/** One key server (KMS) of a key provider. */
export interface KeyServerConfig {
  /** Unique within the provider, e.g. "kms-a". */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** Trust/identity for this server; defaults to the provider's. */
  readonly tls?: TlsIdentity;
}

/** A key provider (vSphere "KMS cluster"): a named, ordered list of replicating key servers. */
export interface KeyProviderConfig {
  readonly name: string;
  /** Tried in this order (see siteLocalOrder for two-site setups). */
  readonly servers: readonly KeyServerConfig[];
  /** Default trust/identity for every server. */
  readonly tls?: TlsIdentity;
  /**
   * How long to wait for a server that accepted the connection but does not answer before
   * moving to the next one. Default 60 000 ms, vSphere's fixed value; here configurable.
   */
  readonly hungTimeoutMs?: number;
  /** TCP connect timeout; past it the server counts as unreachable. Default 5 000 ms. */
  readonly connectTimeoutMs?: number;
  /**
   * A server that failed is tried after the healthy ones for this long, so one hung server
   * does not cost every request the hung timeout. Default 60 000 ms.
   */
  readonly downRetryMs?: number;
}

export const DEFAULT_HUNG_TIMEOUT_MS = 60_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_DOWN_RETRY_MS = 60_000;
const MAX_TIMEOUT_MS = 24 * 60 * 60 * 1000;
const MAX_SERVERS = 64;

export interface ResolvedKeyProviderConfig {
  readonly name: string;
  readonly servers: readonly (KeyServerConfig & { readonly tls: TlsIdentity })[];
  readonly hungTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly downRetryMs: number;
}

/** Validates a provider configuration and fills in defaults. */
export function resolveProviderConfig(cfg: KeyProviderConfig): ResolvedKeyProviderConfig {
  const bad = (msg: string): KeyProviderError =>
    new KeyProviderError(KeyProviderErrorCode.CONFIG_INVALID, `key provider "${cfg.name}": ${msg}`, {
      provider: cfg.name,
    });
  if (typeof cfg.name !== 'string' || cfg.name.trim() === '' || cfg.name.length > 128) {
    throw bad('name must be 1–128 characters');
  }
  if (cfg.servers.length === 0) throw bad('at least one key server is needed');
  if (cfg.servers.length > MAX_SERVERS) throw bad(`at most ${MAX_SERVERS} key servers`);
  const names = new Set<string>();
  const servers = cfg.servers.map((s) => {
    if (typeof s.name !== 'string' || s.name === '' || s.name.length > 128) throw bad('every server needs a name');
    if (names.has(s.name)) throw bad(`server name "${s.name}" appears twice`);
    names.add(s.name);
    if (typeof s.host !== 'string' || s.host === '' || s.host.length > 253) throw bad(`server "${s.name}": invalid host`);
    if (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535) throw bad(`server "${s.name}": invalid port ${s.port}`);
    const tls = s.tls ?? cfg.tls;
    if (tls === undefined) throw bad(`server "${s.name}": no TLS trust/identity (set it on the server or the provider)`);
    return { ...s, tls };
  });
  return {
    name: cfg.name,
    servers,
    hungTimeoutMs: timeout(cfg.hungTimeoutMs, DEFAULT_HUNG_TIMEOUT_MS, 'hungTimeoutMs', bad),
    connectTimeoutMs: timeout(cfg.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, 'connectTimeoutMs', bad),
    downRetryMs: timeout(cfg.downRetryMs, DEFAULT_DOWN_RETRY_MS, 'downRetryMs', bad, 0),
  };
}

function timeout(
  v: number | undefined,
  dflt: number,
  what: string,
  bad: (m: string) => Error,
  min = 1,
): number {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || v < min || v > MAX_TIMEOUT_MS) throw bad(`${what} must be between ${min} and ${MAX_TIMEOUT_MS} ms`);
  return Math.floor(v);
}
