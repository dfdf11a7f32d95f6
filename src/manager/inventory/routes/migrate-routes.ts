import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Privilege } from '../../contracts.js';
import { ManagerError } from '../../errors.js';
import type { PeerRef } from '../cross-manager/peer-manager.js';
import { commitBodySchema, incomingAnswerSchema, incomingBodySchema, type CommitRequest, type IncomingRequest } from '../cross-manager/wire.js';
import type { Inventory } from '../inventory.js';
import { migrationsOf } from './migrate-wiring.js';
import { entityOf, hostAware, principalOf, vmJson } from './route-util.js';
import { idParams, taskRefSchema, vmSchema } from './schemas.js';

const REF = { type: 'string', minLength: 1, maxLength: 256 } as const;
/** The destination manager: its URL, the SHA-256 of its certificate (pinned), a token of a user there. */
export const peerSchema = {
  type: 'object', additionalProperties: false, required: ['url', 'thumbprint', 'token'],
  properties: {
    url: { type: 'string', minLength: 9, maxLength: 512, pattern: '^https://' },
    thumbprint: { type: 'string', minLength: 64, maxLength: 95, pattern: '^[0-9A-Fa-f:]+$' },
    token: { type: 'string', minLength: 1, maxLength: 512 },
  },
} as const;
const migrationParams = idParams;
const taskJson = (t: { id: string; kind: string; state: string }) => ({ id: t.id, kind: t.kind, state: t.state });

/** This manager as its caller addressed it (how the destination's events name the source). */
export const selfUrl = (req: FastifyRequest): string => `https://${String(req.headers.host ?? 'unknown').slice(0, 256)}`;

/** Migration (issue 14): within this manager, to another one, and the destination side of the latter. */
export function migrateRoutes(app: FastifyInstance, inv: Inventory): void {
  const m = migrationsOf(inv);

  app.post<{ Params: { id: string }; Body: { host?: string; datastore?: string; manager?: PeerRef } }>('/api/vms/:id/migrate', {
    config: { privilege: Privilege.VM_MIGRATE, entity: entityOf.vm },
    schema: {
      tags: ['vm-ops'],
      summary: 'Migrate (vMotion): host only = to another host through a shared datastore (live when powered on, re-registered when off); datastore only = storage migration; both = relocate then migrate; manager = to another manager sharing the key provider (host and datastore are then its own). An encrypted VM also needs Cryptographer.Migrate',
      params: idParams,
      body: { type: 'object', additionalProperties: false, minProperties: 1, properties: { host: REF, datastore: REF, manager: peerSchema } },
      response: { 202: taskRefSchema },
    },
  }, async (req, reply) => {
    const b = req.body;
    const who = principalOf(req);
    const t = await hostAware(() => {
      if (b.manager === undefined) return m.local.migrate(req.params.id, { ...(b.host === undefined ? {} : { host: b.host }), ...(b.datastore === undefined ? {} : { datastore: b.datastore }) }, who);
      if (b.host === undefined) throw new ManagerError('MANAGER_BAD_REQUEST', 'body.host: a migration to another manager names the host there');
      return m.outgoing.migrate(req.params.id, { manager: b.manager, host: b.host, ...(b.datastore === undefined ? {} : { datastore: b.datastore }), self: selfUrl(req) }, who);
    });
    return reply.code(202).send(taskJson(t));
  });

  app.post<{ Body: IncomingRequest }>('/api/migrations/incoming', {
    config: { privilege: Privilege.VM_REGISTER },
    schema: {
      tags: ['vm-ops'],
      summary: 'Destination side of a migration or clone from another manager: refused before anything moves unless this manager knows the key provider of every key; keys fetched here and pushed to the host, the host prepared (live: an endpoint for the stream). Also needs Resource.HotMigrate (migrate) and Cryptographer.Migrate / Cryptographer.RegisterVM (encrypted)',
      body: incomingBodySchema,
      response: { 200: incomingAnswerSchema },
    },
  }, async (req) => hostAware(() => m.incoming.prepare(req.body, principalOf(req))));

  app.post<{ Params: { id: string }; Body: CommitRequest }>('/api/migrations/:id/commit', {
    config: { privilege: Privilege.VM_REGISTER },
    schema: {
      tags: ['vm-ops'], summary: 'The source manager is done: the incoming VM joins this inventory', params: migrationParams, body: commitBodySchema,
      response: { 200: { type: 'object', required: ['vm'], properties: { vm: vmSchema } } },
    },
  }, async (req) => {
    const vmId = await hostAware(() => m.incoming.commit(req.params.id, req.body ?? {}, principalOf(req)));
    return { vm: vmJson(inv.vmService.view(vmId)) };
  });

  app.delete<{ Params: { id: string } }>('/api/migrations/:id', {
    config: { privilege: Privilege.VM_REGISTER },
    schema: {
      tags: ['vm-ops'], summary: 'The source manager gave up: the incoming VM is dropped from the host (its files stay), its keys leave the host when unneeded', params: migrationParams,
      response: { 200: { type: 'object', properties: { migrationId: { type: 'string' }, aborted: { type: 'boolean' } } } },
    },
  }, async (req) => {
    await hostAware(() => m.incoming.abort(req.params.id, principalOf(req)));
    return { migrationId: req.params.id, aborted: true };
  });
}
