import type { FastifyInstance } from 'fastify';
import { ROOT, type EntityKind, type EntityRef, type RouteModule } from '../contracts.js';
import { ManagerError } from '../errors.js';
import { closed, ENTITY_KIND, ENTITY_REF, ERRORS, ID, PRIVILEGE } from '../api/schemas.js';
import type { ManagerPlatform } from '../platform/platform.js';

interface Query {
  entityKind?: EntityKind;
  entityId?: string;
}

/**
 * "My privileges on this object": what the console needs to grey out an action and say why,
 * before the user clicks. Any logged-in user may ask about themselves. An object the inventory
 * does not know is answered for the root, as the access hooks judge it, so the answer tells
 * nobody whether the object exists.
 */
export function privilegesRoute(platform: ManagerPlatform): RouteModule {
  return (app: FastifyInstance) => {
    app.get<{ Querystring: Query }>(
      '/api/session/privileges',
      {
        config: { authenticatedOnly: true },
        schema: {
          summary: 'My role and privileges on one inventory object (default: the root), after inheritance',
          tags: ['session'],
          querystring: closed({ entityKind: ENTITY_KIND, entityId: ID }),
          response: {
            200: closed({ entity: ENTITY_REF, role: { type: 'string' }, privileges: { type: 'array', items: PRIVILEGE } }, ['entity', 'privileges']),
            ...ERRORS,
          },
        },
      },
      async (request) => {
        const user = request.principal.user;
        const q = request.query;
        const asked: EntityRef = q.entityKind !== undefined && q.entityId !== undefined ? { kind: q.entityKind, id: q.entityId } : ROOT;
        const answer = (judgedAt: EntityRef) => {
          const role = platform.accessControl.effectiveRole(user, judgedAt);
          const privileges = [...platform.accessControl.privileges(user, judgedAt)].sort();
          return { entity: asked, ...(role !== undefined ? { role } : {}), privileges };
        };
        try {
          return answer(asked);
        } catch (err) {
          if (err instanceof ManagerError && err.code === 'MANAGER_NOT_FOUND') return answer(ROOT);
          throw err;
        }
      },
    );
  };
}
