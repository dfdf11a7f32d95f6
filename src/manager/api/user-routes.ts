import type { FastifyInstance } from 'fastify';
import { Privilege, type RouteModule } from '../contracts.js';
import { assertAdministratorRemains } from '../access/last-admin.js';
import type { ManagerPlatform } from '../platform/platform.js';
import { closed, ERRORS, NAME, PASSWORD, TIME } from './schemas.js';

const USER = closed({ name: NAME, createdAt: TIME }, ['name', 'createdAt']);

/** Local users (vCenter's SSO users, simplified): create, list, delete, set password. */
export function userRoutes(platform: ManagerPlatform): RouteModule {
  return (app: FastifyInstance) => {
    app.get(
      '/api/users',
      {
        config: { privilege: Privilege.SYSTEM_READ },
        schema: { summary: 'List users', tags: ['access'], response: { 200: { type: 'array', items: USER }, ...ERRORS } },
      },
      async () => platform.users.list(),
    );

    app.post<{ Body: { name: string; password: string } }>(
      '/api/users',
      {
        config: { privilege: Privilege.MANAGE_USERS },
        schema: {
          summary: 'Create a user (no permission yet: grant one with PUT /api/permissions)',
          tags: ['access'],
          body: closed({ name: NAME, password: PASSWORD }, ['name', 'password']),
          response: { 201: USER, ...ERRORS },
        },
      },
      async (request, reply) => {
        const user = await platform.users.create(request.body.name, request.body.password);
        platform.events.post({ type: 'user.created', severity: 'info', message: `user ${user.name} created`, user: request.principal.user });
        return reply.status(201).send(user);
      },
    );

    app.delete<{ Params: { name: string } }>(
      '/api/users/:name',
      {
        config: { privilege: Privilege.MANAGE_USERS },
        schema: {
          summary: 'Delete a user with their sessions, tokens and permissions',
          tags: ['access'],
          params: closed({ name: NAME }, ['name']),
          response: { 204: { type: 'null' }, ...ERRORS },
        },
      },
      async (request, reply) => {
        assertAdministratorRemains(platform.permissions, { principal: request.params.name });
        platform.users.delete(request.params.name);
        platform.events.post({ type: 'user.deleted', severity: 'info', message: `user ${request.params.name} deleted`, user: request.principal.user });
        return reply.status(204).send();
      },
    );

    app.put<{ Params: { name: string }; Body: { password: string } }>(
      '/api/users/:name/password',
      {
        config: { privilege: Privilege.MANAGE_USERS },
        schema: {
          summary: "Set a user's password (ends that user's sessions)",
          tags: ['access'],
          params: closed({ name: NAME }, ['name']),
          body: closed({ password: PASSWORD }, ['password']),
          response: { 204: { type: 'null' }, ...ERRORS },
        },
      },
      async (request, reply) => {
        await platform.users.setPassword(request.params.name, request.body.password);
        platform.sessions.revokeUser(request.params.name, 'session');
        platform.events.post({
          type: 'user.passwordSet',
          severity: 'info',
          message: `password of user ${request.params.name} set`,
          user: request.principal.user,
        });
        return reply.status(204).send();
      },
    );
  };
}
