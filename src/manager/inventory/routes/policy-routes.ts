import type { FastifyInstance } from 'fastify';
import { EntityKind, Privilege } from '../../contracts.js';
import { ManagerError } from '../../errors.js';
import type { Inventory } from '../inventory.js';
import { idParams, list, NAME, policySchema } from './schemas.js';
import { entityOf, principalOf } from './route-util.js';

/** Storage policies: the built-in "Datastore Default" and "VM Encryption Policy", plus custom encryption policies. */
export function policyRoutes(app: FastifyInstance, inv: Inventory): void {
  app.get('/api/policies', {
    config: { privilege: Privilege.SYSTEM_READ },
    schema: { tags: ['policies'], summary: 'List storage policies', response: { 200: list('policies', policySchema) } },
  }, async () => ({ policies: inv.policies.list() }));

  app.post<{ Body: { name: string; encryption?: boolean; providerId?: string } }>('/api/policies', {
    config: { privilege: Privilege.POLICY_UPDATE },
    schema: {
      tags: ['policies'], summary: 'Create a custom storage policy (an encryption policy also needs Cryptographer.ManageEncryptionPolicy)',
      body: {
        type: 'object', required: ['name'], additionalProperties: false,
        properties: { name: NAME, encryption: { type: 'boolean', default: true }, providerId: { type: 'string', minLength: 1, maxLength: 256 } },
      },
      response: { 201: policySchema },
    },
  }, async (req, reply) => {
    const who = principalOf(req);
    const encryption = req.body.encryption !== false;
    if (encryption || req.body.providerId !== undefined) inv.platform.access.check(who, Privilege.CRYPTO_MANAGE_ENCRYPTION_POLICY);
    if (!encryption && req.body.providerId !== undefined) {
      throw new ManagerError('MANAGER_BAD_REQUEST', 'body.providerId: only an encryption policy names a key provider');
    }
    const p = inv.policies.create({ name: req.body.name, encryption, ...(req.body.providerId === undefined ? {} : { providerId: req.body.providerId }) });
    inv.platform.events.post({ type: 'policy.created', severity: 'info', entity: { kind: EntityKind.POLICY, id: p.id }, user: who.user, message: `storage policy ${p.name} created${p.encryption ? ` (encryption${p.providerId === undefined ? ', default key provider' : `, key provider ${p.providerId}`})` : ''}` });
    return reply.code(201).send(p);
  });

  app.delete<{ Params: { id: string } }>('/api/policies/:id', {
    config: { privilege: Privilege.POLICY_UPDATE, entity: entityOf.policy },
    schema: { tags: ['policies'], summary: 'Delete a custom storage policy no VM uses', params: idParams, response: { 204: { type: 'null' } } },
  }, async (req, reply) => {
    const who = principalOf(req);
    const p = inv.policies.require(req.params.id);
    if (p.encryption) inv.platform.access.check(who, Privilege.CRYPTO_MANAGE_ENCRYPTION_POLICY, { kind: EntityKind.POLICY, id: p.id });
    inv.policies.delete(p.id);
    inv.platform.events.post({ type: 'policy.deleted', severity: 'info', entity: { kind: EntityKind.POLICY, id: p.id }, user: who.user, message: `storage policy ${p.name} deleted` });
    return reply.code(204).send();
  });
}
