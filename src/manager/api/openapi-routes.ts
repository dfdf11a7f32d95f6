import type { FastifyInstance } from 'fastify';
import { Privilege, type RouteModule } from '../contracts.js';
import type { ManagerPlatform } from '../platform/platform.js';

/** The generated OpenAPI document (public: it describes, never reveals) and Prometheus metrics. */
export function openApiRoutes(platform: ManagerPlatform): RouteModule {
  return (app: FastifyInstance) => {
    app.get(
      '/api/openapi.json',
      {
        config: { public: true },
        schema: { summary: 'This OpenAPI document, generated from the route schemas', tags: ['platform'] },
      },
      async () => app.swagger(),
    );
    app.get(
      '/metrics',
      {
        config: { privilege: Privilege.SYSTEM_READ },
        schema: { summary: 'Prometheus metrics (text exposition format); scrape with an API token', tags: ['platform'] },
      },
      async (_request, reply) => {
        const text = await platform.metrics.metrics();
        return reply.type(platform.metrics.contentType).send(text);
      },
    );
  };
}
