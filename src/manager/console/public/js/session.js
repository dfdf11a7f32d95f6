// @ts-check
import { get, query } from './api.js';

/** @typedef {{ user: string, role?: string, privileges: string[], expiresAt: string }} Me */

/** @type {Me | null} */
let me = null;
/** @type {Promise<Map<string, string | null>> | null} */
let routes = null;

/** Who am I (GET /api/session); cached until logout. */
export async function loadMe() {
  me = await get('/api/session');
  return /** @type {Me} */ (me);
}

export function currentMe() {
  return me;
}

export function forget() {
  me = null;
  routes = null;
}

/**
 * My privileges on one object (GET /api/session/privileges), inheritance applied.
 * @param {string} kind @param {string} id
 * @returns {Promise<{ role?: string, privileges: Set<string> }>}
 */
export async function privilegesOn(kind, id) {
  const r = await get(`/api/session/privileges${query({ entityKind: kind, entityId: id })}`);
  return { role: r.role, privileges: new Set(r.privileges) };
}

/** @param {string} privilege */
export function hasOnRoot(privilege) {
  return me !== null && me.privileges.includes(privilege);
}

/**
 * The manager's routes as its OpenAPI document lists them: "METHOD /path/{param}" → the
 * privilege it checks (null for none). Actions whose route this manager lacks are shown
 * disabled rather than failing on click.
 * @returns {Promise<Map<string, string | null>>}
 */
export function routeTable() {
  if (routes === null) {
    routes = get('/api/openapi.json').then((doc) => {
      const out = new Map();
      for (const [path, ops] of Object.entries(doc.paths ?? {})) {
        for (const [method, op] of Object.entries(/** @type {Record<string, any>} */ (ops))) out.set(`${method.toUpperCase()} ${path}`, op['x-privilege'] ?? null);
      }
      return out;
    });
    routes.catch(() => {
      routes = null;
    });
  }
  return routes;
}
