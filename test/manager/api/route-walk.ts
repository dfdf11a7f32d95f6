import { expect } from 'vitest';
import type { ManagerPlatform } from '../../../src/manager/platform/platform.js';
import { ROOT } from '../../../src/manager/contracts.js';
import { httpsCall } from './https-client.js';

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  minimum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  items?: JsonSchema;
  format?: string;
}

export interface Operation {
  readonly method: string;
  readonly path: string;
  readonly privilege?: string;
  readonly public: boolean;
  readonly body?: JsonSchema;
  readonly pathParams: Record<string, JsonSchema>;
}

interface OpenApiOp {
  'x-privilege'?: string;
  security?: unknown[];
  parameters?: Array<{ in: string; name: string; schema: JsonSchema }>;
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}

/** Every operation of the served OpenAPI document, with the privilege the platform checks. */
export function operationsOf(doc: { paths: Record<string, Record<string, OpenApiOp>> }): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const pathParams: Record<string, JsonSchema> = {};
      for (const p of op.parameters ?? []) if (p.in === 'path') pathParams[p.name] = p.schema;
      const body = op.requestBody?.content?.['application/json']?.schema;
      ops.push({
        method: method.toUpperCase(),
        path,
        ...(op['x-privilege'] !== undefined ? { privilege: op['x-privilege'] } : {}),
        public: Array.isArray(op.security) && op.security.length === 0,
        ...(body !== undefined ? { body } : {}),
        pathParams,
      });
    }
  }
  return ops;
}

/** A concrete URL for an operation: ids nobody has (the privilege check comes first anyway). */
export function concretePath(op: Operation): string {
  return op.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const s = op.pathParams[name];
    return s?.type === 'integer' || s?.type === 'number' ? '987654' : `no-such-${name}`;
  });
}

/** A value of the schema's type (enough to reach the field under test; not necessarily meaningful). */
export function sample(s: JsonSchema | undefined): unknown {
  if (s === undefined) return 'x';
  if (s.enum !== undefined && s.enum.length > 0) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const k of s.required ?? []) out[k] = sample(s.properties?.[k]);
      return out;
    }
    case 'array':
      return [];
    case 'integer':
    case 'number':
      return s.minimum ?? 1;
    case 'boolean':
      return true;
    default:
      return s.format === 'date-time' ? new Date(0).toISOString() : 'x'.repeat(Math.max(1, s.minLength ?? 1));
  }
}

/** A value that is certainly not of the schema's type. */
export function wrongType(s: JsonSchema | undefined): unknown {
  const type = Array.isArray(s?.type) ? s.type[0] : s?.type;
  switch (type) {
    case 'string':
      return 12345;
    case 'object':
    case 'array':
      return 'not-an-object';
    default:
      return 'not-a-number';
  }
}

export const BUILTIN_ROLES = ['Administrator', 'No Cryptography Administrator', 'Read-only'] as const;

/** One user per built-in role, each with that role on the root (propagating). */
export async function roleUsers(platform: ManagerPlatform): Promise<Record<(typeof BUILTIN_ROLES)[number], string>> {
  const out: Partial<Record<(typeof BUILTIN_ROLES)[number], string>> = {};
  for (const [i, role] of BUILTIN_ROLES.entries()) {
    const name = `role-user-${i}`;
    if (!platform.users.exists(name)) {
      await platform.users.create(name, `password-of-${name}`);
      platform.permissions.set({ principal: name, entity: ROOT, role, propagate: true });
    }
    out[role] = name;
  }
  return out as Record<(typeof BUILTIN_ROLES)[number], string>;
}

/**
 * The RBAC matrix, derived: for each route × built-in role, the call is allowed (anything but
 * 401/403) exactly when the role holds the route's privilege; a denial is 403 naming it.
 * Each call uses a fresh session, so a logout route cannot end the walk.
 */
export async function walkAccessMatrix(base: string, platform: ManagerPlatform, ops: readonly Operation[]): Promise<{ allows: number; denials: number }> {
  const users = await roleUsers(platform);
  let allows = 0;
  let denials = 0;
  for (const op of ops) {
    if (op.public) continue;
    for (const role of BUILTIN_ROLES) {
      const held = new Set<string>(platform.roles.get(role)?.privileges ?? []);
      const token = platform.sessions.create(users[role]).token;
      const res = await httpsCall(base, { method: op.method, path: concretePath(op), token, ...(op.body !== undefined ? { body: {} } : {}) });
      const what = `${op.method} ${op.path} as ${role} (${op.privilege ?? 'any logged-in user'}): ${res.status} ${res.body.slice(0, 200)}`;
      const allowed = op.privilege === undefined || held.has(op.privilege);
      if (allowed) {
        expect(res.status, what).not.toBe(403);
        expect(res.status, what).not.toBe(401);
        allows++;
      } else {
        expect(res.status, what).toBe(403);
        expect(res.json<{ error: { code: string; message: string } }>().error, what).toMatchObject({
          code: 'MANAGER_FORBIDDEN',
          message: expect.stringContaining(`lacks privilege ${op.privilege}`) as unknown as string,
        });
        denials++;
      }
    }
  }
  return { allows, denials };
}

/** Every route with a JSON body refuses an unknown field and a wrong type, naming the field. */
export async function walkBadInput(base: string, adminToken: string, ops: readonly Operation[]): Promise<number> {
  let checked = 0;
  for (const op of ops) {
    if (op.body === undefined || op.body.type !== 'object') continue;
    const valid = sample(op.body) as Record<string, unknown>;
    const path = concretePath(op);
    const unknown = await httpsCall(base, { method: op.method, path, token: adminToken, body: { ...valid, zzUnknownField: 1 } });
    const w1 = `${op.method} ${op.path} unknown field: ${unknown.status} ${unknown.body.slice(0, 200)}`;
    expect(unknown.status, w1).toBeGreaterThanOrEqual(400);
    expect(unknown.status, w1).toBeLessThan(500);
    expect(unknown.body, w1).toContain('zzUnknownField');

    const props = Object.keys(op.body.properties ?? {});
    const field = op.body.required?.[0] ?? props[0];
    if (field !== undefined) {
      const wrong = await httpsCall(base, { method: op.method, path, token: adminToken, body: { ...valid, [field]: wrongType(op.body.properties?.[field]) } });
      const w2 = `${op.method} ${op.path} wrong type of ${field}: ${wrong.status} ${wrong.body.slice(0, 200)}`;
      expect(wrong.status, w2).toBeGreaterThanOrEqual(400);
      expect(wrong.status, w2).toBeLessThan(500);
      expect(wrong.body, w2).toContain(`body.${field}`);
    }
    checked++;
  }
  return checked;
}
