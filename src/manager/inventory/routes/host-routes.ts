import type { FastifyInstance } from 'fastify';
import { EntityKind, Privilege } from '../../contracts.js';
import { notFound } from '../../errors.js';
import { createDatastore } from '../datastore-service.js';
import type { Inventory } from '../inventory.js';
import { datastoreSchema, hostSchema, ID, idParams, list } from './schemas.js';
import { datastoreJson, entityOf, hostAware, principalOf } from './route-util.js';

const URL_SCHEMA = { type: 'string', minLength: 12, maxLength: 300, pattern: '^https://' } as const;
const THUMBPRINT = { type: 'string', minLength: 64, maxLength: 95, pattern: '^[0-9A-Fa-f:]+$' } as const;

/** Whether a cluster is crypto-relevant: a crypto-safe host or an encrypted VM in it (adding a host then needs Cryptographer.RegisterHost). */
function clusterIsCrypto(inv: Inventory, clusterId: string): boolean {
  const hosts = inv.hosts.inCluster(clusterId);
  return hosts.some((h) => h.cryptoMode === 'safe') || hosts.some((h) => inv.vms.onHost(h.id).some((v) => v.encrypted));
}

export function hostRoutes(app: FastifyInstance, inv: Inventory): void {
  app.post<{ Body: { url: string } }>('/api/hosts/probe', {
    config: { privilege: Privilege.HOST_ADD },
    schema: {
      tags: ['hosts'], summary: 'First contact: the thumbprint of the certificate the host presents, for the operator to confirm',
      body: { type: 'object', required: ['url'], additionalProperties: false, properties: { url: URL_SCHEMA } },
      response: { 200: { type: 'object', required: ['url', 'thumbprint'], properties: { url: { type: 'string' }, thumbprint: { type: 'string' } } } },
    },
  }, async (req) => hostAware(() => inv.connections.probe(req.body.url)));

  app.post<{ Body: { url: string; thumbprint: string; pairingToken?: string; clusterId?: string } }>('/api/hosts', {
    config: { privilege: Privilege.HOST_ADD, entity: entityOf.bodyCluster },
    schema: {
      tags: ['hosts'], summary: 'Add a host with its confirmed thumbprint and its one-time pairing token',
      body: {
        type: 'object', required: ['url', 'thumbprint'], additionalProperties: false,
        properties: { url: URL_SCHEMA, thumbprint: THUMBPRINT, pairingToken: { type: 'string', pattern: '^[0-9a-f]{32}$' }, clusterId: ID },
      },
      response: { 201: hostSchema },
    },
  }, async (req, reply) => {
    const who = principalOf(req);
    const { clusterId } = req.body;
    if (clusterId !== undefined) {
      if (inv.tree.cluster(clusterId) === undefined) throw notFound('cluster', clusterId);
      if (clusterIsCrypto(inv, clusterId)) inv.platform.access.check(who, Privilege.CRYPTO_REGISTER_HOST, { kind: EntityKind.CLUSTER, id: clusterId });
    }
    const host = await hostAware(() => inv.connections.add({
      url: req.body.url, thumbprint: req.body.thumbprint, user: who.user,
      ...(req.body.pairingToken === undefined ? {} : { pairingToken: req.body.pairingToken }),
      ...(clusterId === undefined ? {} : { clusterId }),
    }));
    return reply.code(201).send(host);
  });

  app.get('/api/hosts', {
    config: { privilege: Privilege.SYSTEM_READ },
    schema: { tags: ['hosts'], summary: 'List hosts with their connection state and crypto mode', response: { 200: list('hosts', hostSchema) } },
  }, async () => ({ hosts: inv.hosts.list() }));

  app.get<{ Params: { id: string } }>('/api/hosts/:id', {
    config: { privilege: Privilege.SYSTEM_READ, entity: entityOf.host },
    schema: { tags: ['hosts'], summary: 'One host', params: idParams, response: { 200: hostSchema } },
  }, async (req) => inv.hosts.require(req.params.id));

  app.post<{ Params: { id: string }; Body: { thumbprint?: string } }>('/api/hosts/:id/reconnect', {
    config: { privilege: Privilege.HOST_CONFIG, entity: entityOf.host },
    schema: {
      tags: ['hosts'], summary: 'Reconnect a host (give the new thumbprint when its certificate changed)',
      params: idParams,
      body: { type: 'object', additionalProperties: false, properties: { thumbprint: THUMBPRINT } },
      response: { 200: hostSchema },
    },
  }, async (req) => hostAware(() => inv.connections.reconnect(req.params.id, req.body?.thumbprint)));

  app.delete<{ Params: { id: string } }>('/api/hosts/:id', {
    config: { privilege: Privilege.HOST_REMOVE, entity: entityOf.host },
    schema: { tags: ['hosts'], summary: 'Remove a host and its VMs from the inventory (files stay)', params: idParams, response: { 204: { type: 'null' } } },
  }, async (req, reply) => {
    inv.connections.remove(req.params.id, principalOf(req).user);
    return reply.code(204).send();
  });

  app.get('/api/datastores', {
    config: { privilege: Privilege.SYSTEM_READ },
    schema: { tags: ['datastores'], summary: 'List datastores (shared = mounted by several hosts)', response: { 200: list('datastores', datastoreSchema) } },
  }, async () => ({ datastores: inv.datastores.list().map(datastoreJson) }));

  app.post<{ Body: { name: string; path: string; hostIds: string[] } }>('/api/datastores', {
    config: { privilege: Privilege.DATASTORE_CONFIG },
    schema: {
      tags: ['datastores'], summary: 'Mount a directory as a datastore on one or several hosts (same path = shared storage)',
      body: {
        type: 'object', required: ['name', 'path', 'hostIds'], additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' },
          path: { type: 'string', minLength: 2, maxLength: 1024, pattern: '^/' },
          hostIds: { type: 'array', minItems: 1, maxItems: 64, items: ID },
        },
      },
      response: { 201: datastoreSchema },
    },
  }, async (req, reply) => {
    const ds = await hostAware(() => createDatastore(
      { hosts: inv.hosts, datastores: inv.datastores, gateway: inv.gateway, events: inv.platform.events },
      { ...req.body, user: principalOf(req).user },
    ));
    return reply.code(201).send(datastoreJson(ds));
  });
}
