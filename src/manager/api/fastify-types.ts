import type { Principal, RouteAccess } from '../contracts.js';

// Declaration merging: `config` on every route is a RouteAccess, and authenticated requests carry
// the caller. `principal` is set by the platform's authentication hook before any non-public handler.
declare module 'fastify' {
  interface FastifyContextConfig extends RouteAccess {}
  interface FastifyRequest {
    principal: Principal;
  }
}

export {};
