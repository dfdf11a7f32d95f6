import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { ROOT, type EntityRef, type RouteAccess } from '../contracts.js';
import { ManagerError } from '../errors.js';
import type { ManagerPlatform } from '../platform/platform.js';

const MAX_AUTH_HEADER = 512;

/** A route must say who may call it: a privilege, public, or any logged-in user. Nothing is open by accident. */
export function checkRouteAccess(route: Pick<RouteOptions, 'method' | 'url' | 'config'>): void {
  const c = (route.config ?? {}) as RouteAccess;
  const given = [c.privilege !== undefined, c.public === true, c.authenticatedOnly === true].filter(Boolean).length;
  if (given !== 1) {
    const methods = Array.isArray(route.method) ? route.method.join(',') : String(route.method);
    throw new ManagerError(
      'MANAGER_INTERNAL',
      `route ${methods} ${route.url} must set exactly one of config.privilege, config.public, config.authenticatedOnly (it sets ${given})`,
    );
  }
}

export function bearerToken(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  if (typeof h !== 'string' || h.length > MAX_AUTH_HEADER) return undefined;
  const m = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(h.trim());
  return m?.[1];
}

/**
 * Authentication runs first (onRequest: before the body is even read), the privilege check
 * before validation (preValidation), so a caller without the privilege learns nothing from
 * validation messages. An entity the inventory does not know is checked at the root instead:
 * a caller without the privilege gets 403 either way, and existence leaks only to those with it.
 */
export function installAccessHooks(app: FastifyInstance, platform: ManagerPlatform): void {
  app.decorateRequest('principal', null as unknown as never);
  app.addHook('onRoute', (route) => checkRouteAccess(route));

  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config as RouteAccess | undefined;
    if (config === undefined || config.public === true || request.routeOptions.url === undefined) return;
    const token = bearerToken(request);
    const session = token === undefined ? undefined : platform.sessions.resolve(token);
    if (session === undefined) {
      throw new ManagerError(
        'MANAGER_UNAUTHENTICATED',
        token === undefined ? 'authentication required: send Authorization: Bearer <token> (POST /api/session)' : 'session expired or unknown: log in again',
      );
    }
    request.principal = { user: session.user };
  });

  app.addHook('preValidation', async (request) => {
    const config = request.routeOptions.config as RouteAccess | undefined;
    if (config?.privilege === undefined) return;
    let entity: EntityRef = ROOT;
    if (config.entity !== undefined) {
      try {
        entity = config.entity({ params: request.params, body: request.body, query: request.query });
      } catch (err) {
        if (err instanceof ManagerError && err.code !== 'MANAGER_NOT_FOUND') throw err;
        // malformed input or an unknown object: the entity cannot be named yet, judge at the root
        entity = ROOT;
      }
    }
    try {
      platform.access.check(request.principal, config.privilege, entity);
    } catch (err) {
      // a denial stands; an unknown entity (or an ancestry that choked on raw input) is judged at the root
      if (err instanceof ManagerError && err.code !== 'MANAGER_NOT_FOUND') throw err;
      platform.access.check(request.principal, config.privilege, ROOT);
    }
  });
}
