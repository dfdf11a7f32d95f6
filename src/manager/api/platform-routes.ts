import type { FastifyInstance } from 'fastify';
import type { RouteModule } from '../contracts.js';
import type { ManagerPlatform } from '../platform/platform.js';
import { eventRoutes } from './event-routes.js';
import { permissionRoutes } from './permission-routes.js';
import { roleRoutes } from './role-routes.js';
import { sessionRoutes } from './session-routes.js';
import { taskRoutes } from './task-routes.js';
import { userRoutes } from './user-routes.js';

/** Every route the platform serves (sessions, users, roles, permissions, tasks, events, alarms). */
export function platformRoutes(platform: ManagerPlatform): RouteModule {
  const parts = [sessionRoutes, userRoutes, roleRoutes, permissionRoutes, taskRoutes, eventRoutes].map((f) => f(platform));
  return async (app: FastifyInstance) => {
    for (const part of parts) await part(app);
  };
}
