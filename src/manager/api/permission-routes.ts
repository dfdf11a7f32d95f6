import type { FastifyInstance } from 'fastify';
import { Privilege, ROOT, type EntityKind, type EntityRef, type RouteModule } from '../contracts.js';
import { assertAdministratorRemains } from '../access/last-admin.js';
import { checkEntityRef } from '../access/permissions.js';
import type { ManagerPlatform } from '../platform/platform.js';
import { closed, ENTITY_KIND, ENTITY_REF, ERRORS, ID, NAME } from './schemas.js';

const PERMISSION = closed({ principal: NAME, entity: ENTITY_REF, role: { type: 'string' }, propagate: { type: 'boolean' } }, [
  'principal',
  'entity',
  'role',
  'propagate',
]);

interface EntityQuery {
  kind?: EntityKind;
  id?: string;
}

function queryEntity(query: unknown): EntityRef {
  const q = (query ?? {}) as EntityQuery;
  return q.kind === undefined || q.id === undefined ? ROOT : { kind: q.kind, id: q.id };
}

/** Permissions on inventory objects: (user, role, propagate) per object, inherited downward. */
export function permissionRoutes(platform: ManagerPlatform): RouteModule {
  return (app: FastifyInstance) => {
    app.get<{ Querystring: EntityQuery }>(
      '/api/permissions',
      {
        config: { privilege: Privilege.SYSTEM_READ, entity: ({ query }) => queryEntity(query) },
        schema: {
          summary: 'Permissions defined on one object (default: the root)',
          tags: ['access'],
          querystring: closed({ kind: ENTITY_KIND, id: ID }),
          response: { 200: { type: 'array', items: PERMISSION }, ...ERRORS },
        },
      },
      async (request) => platform.permissions.list(checkEntityRef(queryEntity(request.query))),
    );

    app.put<{ Body: { principal: string; entity: EntityRef; role: string; propagate?: boolean } }>(
      '/api/permissions',
      {
        config: { privilege: Privilege.MANAGE_PERMISSIONS, entity: ({ body }) => (body as { entity: EntityRef }).entity },
        schema: {
          summary: "Give a user a role on an object (replaces that user's permission there)",
          tags: ['access'],
          body: closed({ principal: NAME, entity: ENTITY_REF, role: { type: 'string', minLength: 1, maxLength: 64 }, propagate: { type: 'boolean' } }, [
            'principal',
            'entity',
            'role',
          ]),
          response: { 200: PERMISSION, ...ERRORS },
        },
      },
      async (request) => {
        const { principal, entity, role } = request.body;
        // the object must exist in the inventory (the root always does)
        platform.accessControl.ancestorsOf(entity);
        assertAdministratorRemains(platform.permissions, { principal, entity, newRole: role });
        const p = platform.permissions.set({ principal, entity, role, propagate: request.body.propagate ?? true });
        platform.events.post({
          type: 'permission.set',
          severity: 'info',
          message: `${principal} has role ${role} on ${entity.kind} ${entity.id}${p.propagate ? '' : ' (not propagated)'}`,
          entity,
          user: request.principal.user,
        });
        return p;
      },
    );

    app.delete<{ Querystring: { principal: string; kind: EntityKind; id: string } }>(
      '/api/permissions',
      {
        config: { privilege: Privilege.MANAGE_PERMISSIONS, entity: ({ query }) => queryEntity(query) },
        schema: {
          summary: "Remove a user's permission on an object",
          tags: ['access'],
          querystring: closed({ principal: NAME, kind: ENTITY_KIND, id: ID }, ['principal', 'kind', 'id']),
          response: { 204: { type: 'null' }, ...ERRORS },
        },
      },
      async (request, reply) => {
        const entity: EntityRef = { kind: request.query.kind, id: request.query.id };
        assertAdministratorRemains(platform.permissions, { principal: request.query.principal, entity });
        platform.permissions.remove(request.query.principal, entity);
        platform.events.post({
          type: 'permission.removed',
          severity: 'info',
          message: `permission of ${request.query.principal} on ${entity.kind} ${entity.id} removed`,
          entity,
          user: request.principal.user,
        });
        return reply.status(204).send();
      },
    );
  };
}
