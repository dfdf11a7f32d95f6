import type { FastifyInstance } from 'fastify';
import type { InventoryView, RouteModule } from '../contracts.js';
import { EntityKind, Privilege } from '../contracts.js';
import type { StoredServer } from './provider-store.js';
import { providerUse, type KeyManagement } from './key-service.js';
import {
  bodies,
  cryptoSafeSchema,
  healthSchema,
  idParams,
  keyParams,
  keyStatusSchema,
  keyUseSchema,
  providerParams,
  providerSchema,
  trustSchema,
  unlockSchema,
} from './route-schemas.js';

type Id = { Params: { id: string } };
const providerEntity = (r: { params: unknown }) => ({ kind: EntityKind.KEY_PROVIDER, id: String((r.params as { id?: unknown }).id ?? '') });
const vmEntity = (r: { params: unknown }) => ({ kind: EntityKind.VM, id: String((r.params as { id?: unknown }).id ?? '') });
const hostEntity = (r: { params: unknown }) => ({ kind: EntityKind.HOST, id: String((r.params as { id?: unknown }).id ?? '') });
const who = (req: { principal?: { user: string } }): string | undefined => req.principal?.user;

/**
 * Key management's routes. Privileges as vSphere names them: reading providers needs
 * Cryptographer.ReadKeyServersInfo, changing them Cryptographer.ManageKeyServers; key status
 * (QueryCryptoKeyStatus) Cryptographer.ManageKeys; Unlock VM Cryptographer.RegisterVM;
 * making a host crypto-safe Cryptographer.RegisterHost.
 */
export function keyRoutes(keys: KeyManagement, inventory: InventoryView): RouteModule {
  return (app: FastifyInstance) => {
    const tags = ['key providers'];
    app.get('/api/key-providers', {
      config: { privilege: Privilege.CRYPTO_READ_KEY_SERVERS_INFO },
      schema: { tags, summary: 'List key providers, their ordered key servers, trust and last health', response: { 200: { type: 'object', required: ['providers'], properties: { providers: { type: 'array', items: providerSchema } } } } },
    }, async () => ({ providers: keys.providers.list() }));

    app.post<{ Body: { name: string; servers: StoredServer[]; hungTimeoutMs?: number; default?: boolean } }>('/api/key-providers', {
      config: { privilege: Privilege.CRYPTO_MANAGE_KEY_SERVERS },
      schema: { tags, summary: 'Add a key provider (the first one becomes the default)', body: bodies.addProvider, response: { 201: providerSchema } },
    }, async (req, reply) => {
      const b = req.body;
      const p = keys.providers.add({ id: b.name, servers: b.servers, ...(b.hungTimeoutMs === undefined ? {} : { hungTimeoutMs: b.hungTimeoutMs }), ...(b.default === undefined ? {} : { makeDefault: b.default }) }, who(req));
      return reply.code(201).send(p);
    });

    app.get<Id>('/api/key-providers/:id', {
      config: { privilege: Privilege.CRYPTO_READ_KEY_SERVERS_INFO, entity: providerEntity },
      schema: { tags, summary: 'One key provider', params: providerParams, response: { 200: providerSchema } },
    }, async (req) => keys.providers.get(req.params.id));

    app.delete<Id>('/api/key-providers/:id', {
      config: { privilege: Privilege.CRYPTO_MANAGE_KEY_SERVERS, entity: providerEntity },
      schema: { tags, summary: 'Remove a key provider (refused while inventory objects use its keys)', params: providerParams, response: { 204: { type: 'null' } } },
    }, async (req, reply) => {
      await keys.providers.remove(req.params.id, (id) => providerUse(inventory, id), who(req));
      return reply.code(204).send();
    });

    app.put<Id & { Body: { servers: StoredServer[] } }>('/api/key-providers/:id/servers', {
      config: { privilege: Privilege.CRYPTO_MANAGE_KEY_SERVERS, entity: providerEntity },
      schema: { tags, summary: 'Replace the ordered list of key servers', params: providerParams, body: bodies.servers, response: { 200: providerSchema } },
    }, async (req) => keys.providers.setServers(req.params.id, req.body.servers, who(req)));

    app.post<Id>('/api/key-providers/:id/default', {
      config: { privilege: Privilege.CRYPTO_MANAGE_KEY_SERVERS, entity: providerEntity },
      schema: { tags, summary: 'Make this the default key provider', params: providerParams, response: { 200: providerSchema } },
    }, async (req) => keys.providers.setDefault(req.params.id, who(req)));

    app.post<Id>('/api/key-providers/:id/health', {
      config: { privilege: Privilege.CRYPTO_READ_KEY_SERVERS_INFO, entity: providerEntity },
      schema: { tags, summary: 'Check every key server now: latency, versions, certificate expiry', params: providerParams, response: { 200: healthSchema } },
    }, async (req) => keys.checkHealth(req.params.id));

    // ---- trust: the four setups vCenter offers --------------------------------------------
    const trustRoute = <B>(path: string, summary: string, body: object, run: (id: string, b: B, user: string | undefined) => Promise<unknown>, response: object = trustSchema): void => {
      app.post<Id & { Body: B }>(`/api/key-providers/:id/trust/${path}`, {
        config: { privilege: Privilege.CRYPTO_MANAGE_KEY_SERVERS, entity: providerEntity },
        schema: { tags, summary, params: providerParams, body, response: { 200: response } },
      }, async (req) => run(req.params.id, req.body as B, who(req)));
    };
    app.get<Id>('/api/key-providers/:id/trust', {
      config: { privilege: Privilege.CRYPTO_READ_KEY_SERVERS_INFO, entity: providerEntity },
      schema: { tags, summary: 'Trust of a key provider (certificates; never a private key)', params: providerParams, response: { 200: trustSchema } },
    }, async (req) => keys.providers.get(req.params.id).trust);
    trustRoute<{ certPem: string }>('server-certificates', '(a) Trust the KMS CA certificate or the KMS server certificate', bodies.certPem, (id, b, u) => keys.providers.trustServer(id, b.certPem, u));
    trustRoute<{ sha256Fingerprint: string }>('server-certificates/remove', 'Stop trusting a KMS certificate', bodies.fingerprint, (id, b, u) => keys.providers.untrustServer(id, b.sha256Fingerprint, u));
    trustRoute<{ certPem: string; keyPem: string; kmsCaPem?: string }>('client-certificate', '(b) Upload a client certificate and key signed by the KMS CA', bodies.upload, (id, b, u) => keys.providers.uploadClientCertificate(id, b, u));
    trustRoute<{ commonName: string }>('csr', '(c) Generate a CSR for the KMS admin to sign', bodies.commonName, (id, b, u) => keys.providers.startCsr(id, b.commonName, u), {
      type: 'object', required: ['csrPem', 'trust'], properties: { csrPem: { type: 'string' }, trust: trustSchema },
    });
    trustRoute<{ certPem: string }>('signed-certificate', '(c) Upload the certificate the KMS CA signed from the CSR', bodies.certPem, (id, b, u) => keys.providers.acceptSignedCertificate(id, b.certPem, u));
    trustRoute<{ commonName: string }>('self-signed', '(d) Make a self-signed client certificate to pin on the KMS', bodies.commonName, (id, b, u) => keys.providers.createSelfSigned(id, b.commonName, u), {
      type: 'object', required: ['certPem', 'sha256Fingerprint', 'trust'], properties: { certPem: { type: 'string' }, sha256Fingerprint: { type: 'string' }, trust: trustSchema },
    });

    // ---- keys ---------------------------------------------------------------------------
    type KeyP = { Params: { providerId: string; keyId: string } };
    app.get<KeyP>('/api/keys/:providerId/:keyId/status', {
      config: { privilege: Privilege.CRYPTO_MANAGE_KEYS },
      schema: { tags: ['keys'], summary: 'Key status (QueryCryptoKeyStatus): in the KMS, its state, on which hosts, provider reachable', params: keyParams, response: { 200: keyStatusSchema } },
    }, async (req) => keys.keyStatus({ providerId: req.params.providerId, keyId: req.params.keyId }));

    app.get<KeyP>('/api/keys/:providerId/:keyId/entities', {
      config: { privilege: Privilege.CRYPTO_MANAGE_KEYS },
      schema: { tags: ['keys'], summary: 'Which inventory objects use this key', params: keyParams, response: { 200: { type: 'object', required: ['entities'], properties: { entities: { type: 'array', items: keyUseSchema } } } } },
    }, async (req) => ({ entities: keys.keyEntities({ providerId: req.params.providerId, keyId: req.params.keyId }) }));

    // ---- unlock, crypto-safe ----------------------------------------------------------------
    app.post<Id>('/api/vms/:id/unlock', {
      config: { privilege: Privilege.CRYPTO_REGISTER_VM, entity: vmEntity },
      schema: { tags: ['vms'], summary: 'Unlock VM: fetch its keys from the key provider again and push them to its host', params: idParams, response: { 200: unlockSchema } },
    }, async (req) => {
      const r = await keys.unlockVm(req.params.id, who(req));
      const reason = keys.lockReason(req.params.id);
      return { ...r, ...(r.locked && reason !== undefined ? { lockReason: reason } : {}) };
    });

    app.post<Id>('/api/hosts/:id/unlock', {
      config: { privilege: Privilege.CRYPTO_REGISTER_HOST, entity: hostEntity },
      schema: { tags: ['hosts'], summary: 'Push again every key the host needs (its VMs, its HA cluster, its host key)', params: idParams, response: { 200: unlockSchema } },
    }, async (req) => keys.unlockHost(req.params.id, who(req)));

    app.post<Id & { Body: { providerId?: string } | undefined }>('/api/hosts/:id/crypto-safe', {
      config: { privilege: Privilege.CRYPTO_REGISTER_HOST, entity: hostEntity },
      schema: { tags: ['hosts'], summary: 'Make the host (and so its whole cluster) crypto-safe: a host key from the key provider', params: idParams, body: bodies.cryptoSafe, response: { 200: cryptoSafeSchema } },
    }, async (req) => keys.makeCryptoSafe(req.params.id, { ...(who(req) === undefined ? {} : { user: who(req) as string }), ...(req.body?.providerId === undefined ? {} : { providerId: req.body.providerId }) }));
  };
}
