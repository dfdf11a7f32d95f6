import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApi } from '../../../src/manager/api/server.js';
import { platformRoutes } from '../../../src/manager/api/platform-routes.js';
import type { RouteModule } from '../../../src/manager/contracts.js';
import { createPlatform, type ManagerPlatform } from '../../../src/manager/platform/platform.js';

export const ADMIN_PASSWORD = 'admin-password-for-tests';

export interface ApiHarness {
  readonly dir: string;
  readonly platform: ManagerPlatform;
  readonly app: FastifyInstance;
  login(user: string, password: string): Promise<string>;
  adminToken(): Promise<string>;
  close(): Promise<void>;
}

export async function startApiHarness(opts: { routes?: (p: ManagerPlatform) => RouteModule[]; now?: () => Date } = {}): Promise<ApiHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'vmcrypt-mgr-api-'));
  const log = pino({ level: 'silent' });
  const platform = await createPlatform({ dataDir: join(dir, 'data'), log, adminPassword: ADMIN_PASSWORD, ...(opts.now ? { now: opts.now } : {}) });
  const app = await buildApi({ platform, routes: [platformRoutes(platform), ...(opts.routes?.(platform) ?? [])], logger: log });
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
