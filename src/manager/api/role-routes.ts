import type { FastifyInstance } from 'fastify';
import { Privilege, type RouteModule } from '../contracts.js';
import type { ManagerPlatform } from '../platform/platform.js';
import { closed, ERRORS, PRIVILEGE } from './schemas.js';

const ROLE_NAME = { type: 'string', minLength: 1, maxLength: 64 } as const;
const ROLE = closed({ name: ROLE_NAME, builtin: { type: 'boolean' }, privileges: { type: 'array', items: PRIVILEGE } }, ['name', 'builtin', 'privileges']);

/** Roles: the built-in ones and custom sets of privileges. */
export function roleRoutes(platform: ManagerPlatform): RouteModule {
  return (app: FastifyInstance) => {
    app.get(
      '/api/privileges',
      {
        config: { privilege: Privilege.SYSTEM_READ },
        schema: { summary: 'Every privilege a role can hold', tags: ['access'], response: { 200: { type: 'array', items: PRIVILEGE }, ...ERRORS } },
      },
      async () => Object.values(Privilege),
    );

    app.get(
      '/api/roles',
      {
        config: { privilege: Privilege.SYSTEM_READ },
        schema: { summary: 'List roles', tags: ['access'], response: { 200: { type: 'array', items: ROLE }, ...ERRORS } },
      },
      async () => platform.roles.list(),
    );

    app.post<{ Body: { name: string; privileges: string[] } }>(
      '/api/roles',
      {
        config: { privilege: Privilege.MANAGE_ROLES },
        schema: {
          summary: 'Create a custom role',
          tags: ['access'],
          body: closed({ name: ROLE_NAME, privileges: { type: 'array', maxItems: 256, items: PRIVILEGE } }, ['name', 'privileges']),
          response: { 201: ROLE, ...ERRORS },
        },
      },
      async (request, reply) => {
        const role = platform.roles.create(request.body.name, request.body.privileges);
        platform.events.post({ type: 'role.created', severity: 'info', message: `role ${role.name} created`, user: request.principal.user });
        return reply.status(201).send(role);
      },
    );

    app.delete<{ Params: { name: string } }>(
      '/api/roles/:name',
      {
        config: { privilege: Privilege.MANAGE_ROLES },
        schema: {
          summary: 'Delete a custom role that no permission uses',
          tags: ['access'],
          params: closed({ name: ROLE_NAME }, ['name']),
          response: { 204: { type: 'null' }, ...ERRORS },
        },
      },
      async (request, reply) => {
        platform.roles.delete(request.params.name);
        platform.events.post({ type: 'role.deleted', severity: 'info', message: `role ${request.params.name} deleted`, user: request.principal.user });
        return reply.status(204).send();
      },
    );
  };
}
