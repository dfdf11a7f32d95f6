import type { FastifyInstance } from 'fastify';
import { ROOT, type RouteModule } from '../contracts.js';
import { ManagerError } from '../errors.js';
import { MAX_API_TOKEN_DAYS } from '../access/sessions.js';
import type { ManagerPlatform } from '../platform/platform.js';
import { bearerToken } from './access-hooks.js';
import { closed, ERRORS, NAME, PASSWORD, PRIVILEGE, TIME } from './schemas.js';

const TOKEN_ANSWER = closed({ token: { type: 'string' }, user: NAME, expiresAt: TIME }, ['token', 'user', 'expiresAt']);

/** Login, logout, who-am-I, own password, API tokens. */
export function sessionRoutes(platform: ManagerPlatform): RouteModule {
  return (app: FastifyInstance) => {
    app.post<{ Body: { user: string; password: string } }>(
      '/api/session',
      {
        config: { public: true },
        schema: {
          summary: 'Log in: a session token (Bearer) valid for 8 hours',
          tags: ['session'],
          security: [],
          body: closed({ user: NAME, password: PASSWORD }, ['user', 'password']),
          response: { 200: TOKEN_ANSWER, ...ERRORS },
        },
      },
      async (request) => {
        const { user, password } = request.body;
        if (!(await platform.users.verify(user, password))) {
          platform.events.post({ type: 'user.loginFailed', severity: 'warning', message: `failed login for user ${user}`, user });
          throw new ManagerError('MANAGER_UNAUTHENTICATED', 'wrong user name or password');
        }
        const s = platform.sessions.create(user);
        platform.events.post({ type: 'user.login', severity: 'info', message: `user ${user} logged in`, user });
        return { token: s.token, user, expiresAt: s.expiresAt };
      },
    );

    app.delete(
      '/api/session',
      {
        config: { authenticatedOnly: true },
        schema: { summary: 'Log out (the token used for this call stops working)', tags: ['session'], response: { 204: { type: 'null' }, ...ERRORS } },
      },
      async (request, reply) => {
        const token = bearerToken(request);
        if (token !== undefined) platform.sessions.revoke(token);
        return reply.status(204).send();
      },
    );

    app.get(
      '/api/session',
      {
        config: { authenticatedOnly: true },
        schema: {
          summary: 'Who am I, and my privileges on the inventory root',
          tags: ['session'],
          response: {
            200: closed(
              { user: NAME, role: { type: 'string' }, privileges: { type: 'array', items: PRIVILEGE }, expiresAt: TIME },
              ['user', 'privileges', 'expiresAt'],
            ),
            ...ERRORS,
          },
        },
      },
      async (request) => {
        const user = request.principal.user;
        const session = platform.sessions.resolve(bearerToken(request) ?? '');
        const role = platform.accessControl.effectiveRole(user, ROOT);
        return {
          user,
          ...(role !== undefined ? { role } : {}),
          privileges: [...platform.accessControl.privileges(user, ROOT)].sort(),
          expiresAt: session?.expiresAt ?? '',
        };
      },
    );

    app.post<{ Body: { currentPassword: string; newPassword: string } }>(
      '/api/session/password',
      {
        config: { authenticatedOnly: true },
        schema: {
          summary: 'Change my own password (ends my other sessions)',
          tags: ['session'],
          body: closed({ currentPassword: PASSWORD, newPassword: PASSWORD }, ['currentPassword', 'newPassword']),
          response: { 204: { type: 'null' }, ...ERRORS },
        },
      },
      async (request, reply) => {
        const user = request.principal.user;
        if (!(await platform.users.verify(user, request.body.currentPassword))) {
          throw new ManagerError('MANAGER_FORBIDDEN', 'currentPassword: wrong password');
        }
        await platform.users.setPassword(user, request.body.newPassword);
        platform.sessions.revokeUser(user, 'session');
        platform.events.post({ type: 'user.passwordChanged', severity: 'info', message: `user ${user} changed their password`, user });
        return reply.status(204).send();
      },
    );

    app.post<{ Body: { label?: string; days?: number } }>(
      '/api/tokens',
      {
        config: { authenticatedOnly: true },
        schema: {
          summary: 'Create a long-lived API token for myself (scripts, Prometheus); shown once',
          tags: ['session'],
          body: closed({ label: { type: 'string', maxLength: 128 }, days: { type: 'integer', minimum: 1, maximum: MAX_API_TOKEN_DAYS } }),
          response: { 200: TOKEN_ANSWER, ...ERRORS },
        },
      },
      async (request) => {
        const user = request.principal.user;
        const s = platform.sessions.create(user, {
          kind: 'apiToken',
          ttlMs: (request.body.days ?? 365) * 86_400_000,
          ...(request.body.label !== undefined ? { label: request.body.label } : {}),
        });
        platform.events.post({ type: 'user.apiTokenCreated', severity: 'info', message: `user ${user} created an API token`, user });
        return { token: s.token, user, expiresAt: s.expiresAt };
      },
    );
  };
}
