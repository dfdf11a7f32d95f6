import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApi } from '../../../src/manager/api/server.js';
import { platformRoutes } from '../../../src/manager/api/platform-routes.js';
import type { RouteModule } from '../../../src/manager/contracts.js';
import { createSelfSigned } from '../../../src/pki/index.js';
import { createPlatform, type ManagerPlatform } from '../../../src/manager/platform/platform.js';

export const ADMIN_PASSWORD = 'admin-password-for-tests';

export interface ApiHarness {
  readonly dir: string;
  readonly platform: ManagerPlatform;
  readonly app: FastifyInstance;
  /** https://127.0.0.1:PORT when started with `listen`. */
  readonly url?: string;
  login(user: string, password: string): Promise<string>;
  adminToken(): Promise<string>;
  close(): Promise<void>;
}

export async function startApiHarness(opts: {
    routes?: (p: ManagerPlatform) => RouteModule[];
    now?: () => Date;
    listen?: boolean;
    /** Sees every route module before it registers (e.g. to collect routes with an onRoute hook). */
    wrap?: (m: RouteModule) => RouteModule;
  } = {}): Promise<ApiHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'vmcrypt-mgr-api-'));
  const log = pino({ level: 'silent' });
  const platform = await createPlatform({ dataDir: join(dir, 'data'), log, adminPassword: ADMIN_PASSWORD, ...(opts.now ? { now: opts.now } : {}) });
  const tls = opts.listen === true ? await createSelfSigned({ commonName: '127.0.0.1', usage: 'server' }) : undefined;
  const app = await buildApi({
    platform,
    routes: [platformRoutes(platform), ...(opts.routes?.(platform) ?? [])].map(opts.wrap ?? ((m) => m)),
    logger: log,
    ...(tls !== undefined ? { tls } : {}),
  });
  let url: string | undefined;
  if (opts.listen === true) {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no port');
    url = `https://127.0.0.1:${addr.port}`;
  }
  let admin: string | undefined;
  const login = async (user: string, password: string): Promise<string> => {
    const res = await app.inject({ method: 'POST', url: '/api/session', payload: { user, password } });
    if (res.statusCode !== 200) throw new Error(`login ${user}: ${res.statusCode} ${res.body}`);
    return (res.json() as { token: string }).token;
  };
  return {
    dir,
    platform,
    app,
    ...(url !== undefined ? { url } : {}),
    login,
    adminToken: async () => (admin ??= await login('admin', ADMIN_PASSWORD)),
    close: async () => {
      await app.close();
      platform.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
