import { createHash } from 'node:crypto';
import { request } from 'node:https';
import { connect, type TLSSocket } from 'node:tls';
import { constantTimeEqual } from '../../crypto/guards.js';
import { HostError, type HostErrorCode } from '../errors.js';

/**
 * A small client of the host agent API (what the manager uses): mutual TLS with the
 * manager's client certificate, and the host's certificate pinned by its SHA-256 thumbprint
 * (the one the operator confirmed when adding the host), not by a CA.
 */
export interface HostClientOptions {
  readonly url: string;
  readonly certPem: string;
  readonly keyPem: string;
  /** Expected host thumbprint; absent = accept any (first contact, to show it to the operator). */
  readonly thumbprint?: string;
  /** Bound on TCP connect + TLS handshake (default 30 s): a peer that never answers fails. */
  readonly connectTimeoutMs?: number;
}

const CONNECT_TIMEOUT_MS = 30_000;

const MAX_RESPONSE_BYTES = 8 << 20;

export class HostApiError extends HostError {
  readonly status: number;
  constructor(code: HostErrorCode, message: string, status: number) {
    super(code, message);
    this.status = status;
  }
}

/** Migration contract (docs/host.md "Migration"): what the manager sends and gets back. */
export type MigrationChannelName = 'tunnel' | 'qemu-psk' | 'plain';
export interface MigrationEndpoint {
  readonly host: string;
  readonly port: number;
}
export interface MigrationIncomingRequest {
  readonly migrationId: string;
  readonly vmId: string;
  readonly vmxPath: string;
  readonly channel: MigrationChannelName;
  /** One-time key (32 bytes) and nonce (8 bytes): encrypted channels only; the caller zeroes them. */
  readonly key?: Buffer;
  readonly nonce?: Buffer;
}
export interface MigrationStartRequest {
  readonly migrationId: string;
  readonly endpoint: MigrationEndpoint;
  readonly channel: MigrationChannelName;
  readonly key?: Buffer;
  readonly nonce?: Buffer;
}
export interface MigrationResult {
  readonly migrationId: string;
  readonly channel: MigrationChannelName;
  readonly bytes: number;
  readonly seconds: number;
  readonly mbPerSec: number;
  readonly downtimeMs: number;
  readonly encrypted: boolean;
}

function keyFields(r: { key?: Buffer; nonce?: Buffer }): Record<string, string> {
  return r.key === undefined || r.nonce === undefined ? {} : { key: r.key.toString('base64'), nonce: r.nonce.toString('base64') };
}

export class HostClient {
  readonly #opts: HostClientOptions;

  constructor(opts: HostClientOptions) {
    this.#opts = opts;
  }

  /** Connects and returns the host's certificate thumbprint (first contact). */
  async thumbprint(): Promise<string> {
    const { thumbprint } = await this.#call('GET', '/v1/host', undefined, true);
    return thumbprint;
  }

  /** Destination side: registers the VM, starts QEMU waiting for the stream; returns where to send it. */
  migrationIncoming(r: MigrationIncomingRequest): Promise<{ migrationId: string; endpoint: MigrationEndpoint }> {
    const { key: _k, nonce: _n, ...rest } = r;
    return this.call('POST', '/v1/migrations/incoming', { ...rest, ...keyFields(r) });
  }

  /** Source side: migrates the running VM to the endpoint; resolves when the destination runs it. */
  migrateVm(vmId: string, r: MigrationStartRequest): Promise<MigrationResult> {
    const { key: _k, nonce: _n, ...rest } = r;
    return this.call('POST', `/v1/vms/${encodeURIComponent(vmId)}/migrate`, { ...rest, ...keyFields(r) });
  }

  /** Destination side: drops an incoming migration (idempotent). */
  abortMigration(migrationId: string): Promise<{ migrationId: string; aborted: boolean }> {
    return this.call('DELETE', `/v1/migrations/${encodeURIComponent(migrationId)}`);
  }

  /** Storage migration of a VM (powered on or off) to another datastore of the same host. */
  relocateVm(vmId: string, datastore: string): Promise<{ vmxPath: string; bytes: number; seconds: number }> {
    return this.call('POST', `/v1/vms/${encodeURIComponent(vmId)}/relocate`, { datastore });
  }

  async call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    return (await this.#call(method, path, body, false)).json as T;
  }

  /**
   * Opens the mutual-TLS connection and checks the host's thumbprint BEFORE anything is
   * written: a request body may carry KEKs (POST /v1/keys), so it must never reach an
   * unverified peer. (The host's self-signed certificate is pinned, not CA-verified.)
   */
  #connect(u: URL): Promise<{ socket: TLSSocket; thumbprint: string }> {
    return new Promise((resolve, reject) => {
      const socket = connect({
        host: u.hostname, port: Number(u.port || 443), cert: this.#opts.certPem, key: this.#opts.keyPem,
        rejectUnauthorized: false, // pinned by thumbprint right below, like ESXi in vCenter
      });
      socket.setTimeout(this.#opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS, () => {
        socket.destroy(new Error(`no TLS handshake with ${u.host} within the connect timeout`));
      });
      socket.once('error', reject);
      socket.once('secureConnect', () => {
        socket.off('error', reject);
        socket.setTimeout(0);
        const raw = socket.getPeerCertificate().raw;
        const tp = raw === undefined ? '' : createHash('sha256').update(raw).digest('hex');
        const want = this.#opts.thumbprint?.replace(/[\s:]/g, '').toLowerCase();
        if (want !== undefined && !constantTimeEqual(Buffer.from(want), Buffer.from(tp))) {
          socket.destroy();
          reject(new HostError('HOST_FORBIDDEN', `host thumbprint ${tp} does not match the pinned ${want}`));
          return;
        }
        resolve({ socket, thumbprint: tp });
      });
    });
  }

  async #call(method: string, path: string, body: unknown, probe: boolean): Promise<{ json: unknown; thumbprint: string }> {
    const u = new URL(path, this.#opts.url);
    const { socket, thumbprint: tp } = await this.#connect(u);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: u.hostname, port: u.port, path: u.pathname + u.search, method,
          createConnection: () => socket,
          headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': payload.length },
        },
        (res) => {
          if (probe) {
            res.resume();
            resolve({ json: null, thumbprint: tp });
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_RESPONSE_BYTES) res.destroy(new Error('response too large'));
            else chunks.push(c);
          });
          res.on('error', reject);
          res.on('end', () => {
            let json: unknown = null;
            try {
              json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              reject(new HostError('HOST_BAD_REQUEST', `host answered ${res.statusCode ?? '?'} with invalid JSON`));
              return;
            }
            const status = res.statusCode ?? 0;
            if (status >= 400) {
              const e = (json as { error?: { code?: string; message?: string } }).error;
              reject(new HostApiError((e?.code ?? 'HOST_BAD_REQUEST') as HostErrorCode, e?.message ?? `HTTP ${status}`, status));
              return;
            }
            resolve({ json, thumbprint: tp });
          });
        },
      );
      req.on('error', reject);
      if (payload !== undefined) {
        req.end(payload, () => payload.fill(0));
      } else req.end();
    });
  }
}
