import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { RouteModule } from '../contracts.js';
import type { ManagerPlatform } from '../platform/platform.js';
import { installAccessHooks } from './access-hooks.js';
import { installErrorHandler } from './error-handler.js';
import './fastify-types.js';
import { openApiRoutes } from './openapi-routes.js';
import { validatorCompiler } from './validation.js';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

export interface BuildApiOptions {
  readonly platform: ManagerPlatform;
  readonly routes: readonly RouteModule[];
  /** HTTPS always in production; omitted only by unit tests that use `inject`. */
  readonly tls?: { readonly certPem: string; readonly keyPem: string };
  readonly logger?: Logger;
  readonly bodyLimit?: number;
  readonly version?: string;
}

/**
 * The manager's HTTP API: one fastify app, HTTPS, a JSON schema on every route (validates input,
 * generates the OpenAPI document), authentication and privilege checks from each route's
 * `config`, one error shape `{error:{code,message}}`. Returned ready but not listening.
 */
export async function buildApi(opts: BuildApiOptions): Promise<FastifyInstance> {
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = Fastify({
    ...(opts.tls !== undefined ? { https: { cert: opts.tls.certPem, key: opts.tls.keyPem, minVersion: 'TLSv1.2' as const } } : {}),
    loggerInstance: opts.logger ?? opts.platform.log,
    bodyLimit,
    exposeHeadRoutes: false,
    return503OnClosing: true,
    requestIdHeader: false,
    routerOptions: { maxParamLength: 200 },
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  installErrorHandler(app, bodyLimit);

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'vmcrypt manager API', version: opts.version ?? '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: ({ schema, route }) => {
      const c = (route.config ?? {}) as { public?: boolean; privilege?: string };
      const base = (schema ?? {}) as Record<string, unknown>;
      // the required privilege shows in the document; a public route needs no token
      return {
        schema: {
          ...base,
          ...(c.public === true ? { security: [] } : {}),
          ...(c.privilege !== undefined ? { 'x-privilege': c.privilege } : {}),
        } as typeof schema,
        url: route.url,
      };
    },
  });

  installAccessHooks(app, opts.platform);
  app.addHook('onResponse', async (request, reply) => {
    const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) };
    opts.platform.httpMetrics.httpRequests.inc(labels);
    opts.platform.httpMetrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });

  await app.register(async (scope) => openApiRoutes(opts.platform)(scope));
  for (const routes of opts.routes) await app.register(async (scope) => routes(scope));
  await app.ready();
  return app;
}
