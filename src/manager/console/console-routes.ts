import type { FastifyInstance, FastifyReply } from 'fastify';
import type { RouteModule } from '../contracts.js';
import { notFound } from '../errors.js';
import type { ManagerPlatform } from '../platform/platform.js';
import { consolePublicDir, loadConsoleAssets, type ConsoleAsset } from './console-assets.js';
import { privilegesRoute } from './privileges-route.js';
import { CONSOLE_HEADERS } from './security-headers.js';

const MAX_ASSET_PATH = 200;

export interface ConsoleRoutesOptions {
  /** The folder with index.html and the assets (default: the one shipped with the manager). */
  readonly publicDir?: string;
}

/**
 * The web console: `/` is the page, `/console/*` its scripts, styles and pictures, all public
 * (they hold no data; every datum comes from /api with the user's bearer token) and all sent
 * with the console's Content-Security-Policy. Also the "my privileges on X" route the console
 * uses to grey out actions.
 */
export function consoleRoutes(platform: ManagerPlatform, opts: ConsoleRoutesOptions = {}): RouteModule {
  return async (app: FastifyInstance) => {
    const assets = await loadConsoleAssets(opts.publicDir ?? consolePublicDir());
    const send = (reply: FastifyReply, asset: ConsoleAsset): FastifyReply =>
      reply.headers(CONSOLE_HEADERS).type(asset.type).send(asset.body);
    const index = assets.get('index.html') as ConsoleAsset;

    app.get('/', { config: { public: true }, schema: { hide: true } }, async (_request, reply) => send(reply, index));

    app.get<{ Params: { '*': string } }>(
      '/console/*',
      { config: { public: true }, schema: { hide: true } },
      async (request, reply) => {
        const path = request.params['*'];
        const asset = path.length <= MAX_ASSET_PATH ? assets.get(path) : undefined;
        if (asset === undefined || path === 'index.html') throw notFound('console file', path.slice(0, MAX_ASSET_PATH));
        return send(reply, asset);
      },
    );

    privilegesRoute(platform)(app);
  };
}
