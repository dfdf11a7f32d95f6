import type { HostGateway } from '../../contracts.js';
import { ManagerError } from '../../errors.js';
import { HostClient } from '../../../host/client/host-client.js';
import { HostError } from '../../../host/errors.js';
import type { HostStore } from '../store/host-store.js';

/** The manager's own client certificate, the one every host pins at pairing. */
export interface ManagerClientIdentity {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface HostGatewayOptions {
  /** Bound on connect + TLS handshake per call (the monitor keeps it short to notice a dead host). */
  readonly connectTimeoutMs?: number;
}

/** A host's answer carried an error code: the host refused (as opposed to being unreachable). */
export function isHostRefusal(err: unknown): err is HostError {
  return err instanceof HostError && 'status' in err;
}

/**
 * Calls a host over mutual TLS with the host pinned by the thumbprint the operator confirmed.
 * Refusals the host sends keep their HOST_* code; a host that cannot be reached becomes
 * MANAGER_HOST_UNREACHABLE, and a thumbprint mismatch MANAGER_FORBIDDEN.
 */
export class PinnedHostGateway implements HostGateway {
  readonly #hosts: HostStore;
  readonly #id: ManagerClientIdentity;
  readonly #opts: HostGatewayOptions;

  constructor(hosts: HostStore, identity: ManagerClientIdentity, opts: HostGatewayOptions = {}) {
    this.#hosts = hosts;
    this.#id = identity;
    this.#opts = opts;
  }

  /** A client for a host not yet in the inventory (first contact, pairing). */
  clientFor(url: string, thumbprint?: string): HostClient {
    return new HostClient({
      url, certPem: this.#id.certPem, keyPem: this.#id.keyPem,
      ...(thumbprint === undefined ? {} : { thumbprint }),
      ...(this.#opts.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: this.#opts.connectTimeoutMs }),
    });
  }

  async call<T = Record<string, unknown>>(hostId: string, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const host = this.#hosts.require(hostId);
    try {
      return await this.clientFor(host.url, host.thumbprint).call<T>(method, path, body);
    } catch (err) {
      throw translateHostFailure(err, host.name);
    }
  }
}

export function translateHostFailure(err: unknown, hostName: string): unknown {
  if (isHostRefusal(err)) return err;
  if (err instanceof HostError && err.code === 'HOST_FORBIDDEN') {
    return new ManagerError('MANAGER_FORBIDDEN', `host ${hostName}: ${err.message} (reconnect the host and confirm its new thumbprint)`, { cause: err });
  }
  const msg = err instanceof Error ? err.message : String(err);
  return new ManagerError('MANAGER_HOST_UNREACHABLE', `host ${hostName} is not responding: ${msg}`, { cause: err });
}
