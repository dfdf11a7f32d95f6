import { resolveProviderConfig } from '../../keyprovider/index.js';
import {
  acceptClientCertificate,
  acceptSignedCertificate,
  createSelfSignedIdentity,
  startCsr,
  trustServerCertificate,
  trustSummary,
  untrustServerCertificate,
  type ProviderTrust,
  type TrustSummary,
} from '../../pki/trust/index.js';
import { EntityKind } from '../contracts.js';
import { ManagerError } from '../errors.js';
import type { KeyContext } from './context.js';
import type { ProviderHealthView } from './health-monitor.js';
import type { StoredProvider, StoredServer } from './provider-store.js';

/** A key provider as the API shows it: no secret, sealed or not. */
export interface ProviderView {
  readonly id: string;
  readonly isDefault: boolean;
  readonly servers: readonly StoredServer[];
  readonly hungTimeoutMs?: number;
  readonly createdAt: string;
  readonly trust: TrustSummary;
  readonly health?: ProviderHealthView;
}

const PROVIDER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Add / remove / list key providers, their ordered servers, the default one and the four trust setups. */
export class ProviderAdmin {
  constructor(
    private readonly ctx: KeyContext,
    private readonly secret: Buffer,
  ) {}

  list(): ProviderView[] {
    return this.ctx.store.list().map((p) => this.view(p));
  }

  get(id: string): ProviderView {
    return this.view(this.ctx.store.require(id));
  }

  add(spec: { id: string; servers: readonly StoredServer[]; hungTimeoutMs?: number; makeDefault?: boolean }, user?: string): ProviderView {
    if (!PROVIDER_ID.test(spec.id)) throw new ManagerError('MANAGER_BAD_REQUEST', 'key provider name must match [A-Za-z0-9][A-Za-z0-9._-]{0,63}');
    this.checkServers(spec.id, spec.servers, spec.hungTimeoutMs);
    const p = this.ctx.store.add(spec);
    this.post('keyProvider.added', `key provider ${spec.id} added with ${spec.servers.length} key server(s)${p.isDefault ? ' (default)' : ''}`, spec.id, user);
    return this.view(p);
  }

  async setServers(id: string, servers: readonly StoredServer[], user?: string): Promise<ProviderView> {
    const p = this.ctx.store.require(id);
    this.checkServers(id, servers, p.hungTimeoutMs);
    this.ctx.store.setServers(id, servers);
    await this.ctx.pool.invalidate(id);
    this.post('keyProvider.changed', `key provider ${id}: key servers now ${servers.map((s) => `${s.name} (${s.host}:${s.port})`).join(', ')}`, id, user);
    return this.get(id);
  }

  setDefault(id: string, user?: string): ProviderView {
    this.ctx.store.setDefault(id);
    this.post('keyProvider.default', `key provider ${id} is the default key provider`, id, user);
    return this.get(id);
  }

  /** Refused while inventory objects use its keys: their VMs could never be unlocked again. */
  async remove(id: string, inUse: (providerId: string) => number, user?: string): Promise<void> {
    const p = this.ctx.store.require(id);
    const n = inUse(id);
    if (n > 0) throw new ManagerError('MANAGER_CONFLICT', `key provider ${id} protects ${n} inventory object(s); decrypt or rekey them first (rule: provider in use)`);
    this.ctx.store.remove(id);
    await this.ctx.pool.invalidate(id);
    this.ctx.health.forget(id);
    this.post('keyProvider.removed', `key provider ${id} removed${p.isDefault ? ' (it was the default; no default now)' : ''}`, id, user);
  }

  // ---- trust: (a) trust the KMS, then (b) upload, (c) CSR, or (d) self-signed ----------

  trustServer(id: string, certPem: string, user?: string): Promise<TrustSummary> {
    return this.updateTrust(id, user, 'trusted a KMS certificate', (t) => trustServerCertificate(t, certPem));
  }

  untrustServer(id: string, fingerprint: string, user?: string): Promise<TrustSummary> {
    return this.updateTrust(id, user, 'removed a trusted KMS certificate', (t) => untrustServerCertificate(t, fingerprint));
  }

  uploadClientCertificate(id: string, upload: { certPem: string; keyPem: string; kmsCaPem?: string }, user?: string): Promise<TrustSummary> {
    return this.updateTrust(id, user, 'client certificate uploaded', (t) => acceptClientCertificate(t, upload, this.seal(id)));
  }

  async startCsr(id: string, commonName: string, user?: string): Promise<{ csrPem: string; trust: TrustSummary }> {
    let csrPem = '';
    const trust = await this.updateTrust(id, user, 'CSR generated', async (t) => {
      const r = await startCsr(t, { commonName }, this.seal(id));
      csrPem = r.csrPem;
      return r.trust;
    });
    return { csrPem, trust };
  }

  acceptSignedCertificate(id: string, certPem: string, user?: string): Promise<TrustSummary> {
    return this.updateTrust(id, user, 'signed client certificate accepted', (t) => acceptSignedCertificate(t, { certPem }, this.seal(id)));
  }

  async createSelfSigned(id: string, commonName: string, user?: string): Promise<{ certPem: string; sha256Fingerprint: string; trust: TrustSummary }> {
    let certPem = '';
    let sha256Fingerprint = '';
    const trust = await this.updateTrust(id, user, 'self-signed client certificate made (pin it on the KMS)', async (t) => {
      const r = await createSelfSignedIdentity(t, { commonName }, this.seal(id));
      certPem = r.certPem;
      sha256Fingerprint = r.sha256Fingerprint;
      return r.trust;
    });
    return { certPem, sha256Fingerprint, trust };
  }

  private async updateTrust(id: string, user: string | undefined, what: string, change: (t: ProviderTrust) => ProviderTrust | Promise<ProviderTrust>): Promise<TrustSummary> {
    const p = this.ctx.store.require(id);
    let next: ProviderTrust;
    try {
      next = await change(p.trust);
    } catch (err) {
      if (err instanceof ManagerError) throw err;
      throw new ManagerError('MANAGER_BAD_REQUEST', `key provider ${id}: ${(err as Error).message}`, { cause: err });
    }
    this.ctx.store.setTrust(id, next);
    await this.ctx.pool.invalidate(id);
    this.post('keyProvider.trustChanged', `key provider ${id}: ${what}`, id, user);
    return trustSummary(next);
  }

  private seal(id: string): { masterKey: Buffer; context: string } {
    return { masterKey: this.secret, context: id };
  }

  private checkServers(id: string, servers: readonly StoredServer[], hungTimeoutMs: number | undefined): void {
    try {
      // The key provider's own rules (names unique, ports, ≤ 64 servers, timeouts); a dummy
      // identity stands in for the trust that may not be set up yet.
      resolveProviderConfig({ name: id, servers, tls: { ca: '', cert: '', key: '' }, ...(hungTimeoutMs === undefined ? {} : { hungTimeoutMs }) });
    } catch (err) {
      throw new ManagerError('MANAGER_BAD_REQUEST', (err as Error).message, { cause: err });
    }
  }

  private view(p: StoredProvider): ProviderView {
    const health = this.ctx.health.last(p.id);
    return {
      id: p.id,
      isDefault: p.isDefault,
      servers: p.servers,
      ...(p.hungTimeoutMs === undefined ? {} : { hungTimeoutMs: p.hungTimeoutMs }),
      createdAt: p.createdAt,
      trust: trustSummary(p.trust),
      ...(health === undefined ? {} : { health }),
    };
  }

  private post(type: string, message: string, id: string, user: string | undefined): void {
    this.ctx.platform.events.post({ type, severity: 'info', entity: { kind: EntityKind.KEY_PROVIDER, id }, message, ...(user === undefined ? {} : { user }) });
  }
}
