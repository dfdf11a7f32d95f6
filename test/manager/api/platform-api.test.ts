import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../../src/manager/api/server.js';
import { EntityKind, Privilege, type RouteModule } from '../../../src/manager/contracts.js';
import { bearer, startApiHarness, type ApiHarness } from './harness.js';
import { httpsCall, readSse } from './https-client.js';
import { operationsOf, walkAccessMatrix, walkBadInput } from './route-walk.js';

type ErrorAnswer = { error: { code: string; message: string } };

describe('manager API: platform routes over real HTTPS', () => {
  let h: ApiHarness;
  let base: string;
  const registered: Array<{ method: string; url: string }> = [];
  beforeAll(async () => {
    const collect = (m: RouteModule): RouteModule => async (scope) => {
      scope.addHook('onRoute', (r) => {
        for (const method of [r.method].flat()) registered.push({ method, url: r.url });
      });
      await m(scope);
    };
    h = await startApiHarness({ listen: true, wrap: collect });
    base = h.url!;
  });
  afterAll(async () => h?.close());

  it('no token or a bad token → 401; login, who am I, logout', async () => {
    const none = await httpsCall(base, { method: 'GET', path: '/api/events' });
    expect(none.status).toBe(401);
    expect(none.json<ErrorAnswer>().error.code).toBe('MANAGER_UNAUTHENTICATED');
    expect((await httpsCall(base, { method: 'GET', path: '/api/events', token: 'vmcm_' + 'B'.repeat(43) })).status).toBe(401);
    expect((await httpsCall(base, { method: 'POST', path: '/api/session', body: { user: 'admin', password: 'wrong-password' } })).status).toBe(401);

    const login = await httpsCall(base, { method: 'POST', path: '/api/session', body: { user: 'admin', password: 'admin-password-for-tests' } });
    expect(login.status).toBe(200);
    const { token } = login.json<{ token: string }>();
    const me = await httpsCall(base, { method: 'GET', path: '/api/session', token });
    expect(me.json()).toMatchObject({ user: 'admin', role: 'Administrator', privileges: expect.arrayContaining([Privilege.CRYPTO_DECRYPT]) });
    expect((await httpsCall(base, { method: 'DELETE', path: '/api/session', token })).status).toBe(204);
    expect((await httpsCall(base, { method: 'GET', path: '/api/session', token })).status).toBe(401);
  });

  it('the OpenAPI document (public) lists every registered route with its privilege', async () => {
    const res = await httpsCall(base, { method: 'GET', path: '/api/openapi.json' });
    expect(res.status).toBe(200);
    const doc = res.json<{ paths: Record<string, Record<string, { 'x-privilege'?: string }>> }>();
    const documented = new Set(operationsOf(doc).map((o) => `${o.method} ${o.path}`));
    expect(registered.length).toBeGreaterThan(20);
    for (const r of registered) expect(documented, `${r.method} ${r.url}`).toContain(`${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`);
    expect(doc.paths['/api/alarms/{id}/ack']?.['post']?.['x-privilege']).toBe(Privilege.ALARM_ACK);
  });

  it('the access matrix over every platform route × built-in role: every allow and every deny', async () => {
    const doc = (await httpsCall(base, { method: 'GET', path: '/api/openapi.json' })).json<Parameters<typeof operationsOf>[0]>();
    const { allows, denials } = await walkAccessMatrix(base, h.platform, operationsOf(doc));
    // Read-only is denied the 8 write routes; both administrator roles hold every non-crypto privilege
    expect(allows + denials).toBe(operationsOf(doc).filter((o) => !o.public).length * 3);
    expect(denials).toBe(8);
  });

  it('bad input on every platform route with a body: unknown field and wrong type → 400 naming the field', async () => {
    const doc = (await httpsCall(base, { method: 'GET', path: '/api/openapi.json' })).json<Parameters<typeof operationsOf>[0]>();
    const checked = await walkBadInput(base, await h.adminToken(), operationsOf(doc));
    expect(checked).toBeGreaterThanOrEqual(7);
  });

  it('an oversized body → 413 naming the body; a wrong query type → 400 naming the field', async () => {
    const token = await h.adminToken();
    const big = await httpsCall(base, { method: 'POST', path: '/api/users', token, body: { name: 'big', password: 'p'.repeat(1024 * 1024 + 10) } });
    expect(big.status).toBe(413);
    expect(big.json<ErrorAnswer>().error).toEqual({ code: 'MANAGER_PAYLOAD_TOO_LARGE', message: 'body: larger than 1048576 bytes' });
    const q = await httpsCall(base, { method: 'GET', path: '/api/events?limit=lots', token });
    expect(q.status).toBe(400);
    expect(q.json<ErrorAnswer>().error.message).toContain('querystring.limit');
    const json = await httpsCall(base, { method: 'POST', path: '/api/users', token, rawBody: '{"name": ' });
    expect(json.status).toBe(400);
    const long = await httpsCall(base, { method: 'POST', path: '/api/users', token, body: { name: 'n'.repeat(65), password: 'long-enough' } });
    expect(long.json<ErrorAnswer>().error.message).toContain('body.name');
  });

  it('users, roles and permissions through the API; a denial names privilege and entity', async () => {
    const token = await h.adminToken();
    expect((await httpsCall(base, { method: 'POST', path: '/api/users', token, body: { name: 'carol', password: 'carol-password' } })).status).toBe(201);
    const role = await httpsCall(base, {
      method: 'POST',
      path: '/api/roles',
      token,
      body: { name: 'Key Reader', privileges: [Privilege.SYSTEM_READ, Privilege.CRYPTO_READ_KEY_SERVERS_INFO] },
    });
    expect(role.status).toBe(201);
    const vm = { kind: EntityKind.VM, id: 'vm-42' };
    const set = await httpsCall(base, { method: 'PUT', path: '/api/permissions', token, body: { principal: 'carol', entity: vm, role: 'Key Reader', propagate: false } });
    expect(set.json()).toEqual({ principal: 'carol', entity: vm, role: 'Key Reader', propagate: false });
    const listed = await httpsCall(base, { method: 'GET', path: '/api/permissions?kind=vm&id=vm-42', token });
    expect(listed.json()).toHaveLength(1);

    const carol = await h.login('carol', 'carol-password');
    const denied = await httpsCall(base, { method: 'GET', path: '/api/events', token: carol });
    expect(denied.status).toBe(403);
    expect(denied.json<ErrorAnswer>().error.message).toBe('user carol lacks privilege System.Read on root root');

    expect((await httpsCall(base, { method: 'DELETE', path: '/api/roles/Key%20Reader', token })).status).toBe(409);
    expect((await httpsCall(base, { method: 'DELETE', path: '/api/permissions?principal=carol&kind=vm&id=vm-42', token })).status).toBe(204);
    expect((await httpsCall(base, { method: 'DELETE', path: '/api/roles/Key%20Reader', token })).status).toBe(204);
    // the last Administrator on the root cannot be removed (the matrix test made a second one)
    expect((await httpsCall(base, { method: 'DELETE', path: '/api/users/role-user-0', token })).status).toBe(204);
    const last = await httpsCall(base, { method: 'DELETE', path: '/api/permissions?principal=admin&kind=root&id=root', token });
    expect(last.status).toBe(409);
    expect(last.json<ErrorAnswer>().error.message).toContain('rule: at least one Administrator on the root');
    // a password set by an administrator ends the user's sessions
    expect((await httpsCall(base, { method: 'PUT', path: '/api/users/carol/password', token, body: { password: 'new-carol-password' } })).status).toBe(204);
    expect((await httpsCall(base, { method: 'GET', path: '/api/session', token: carol })).status).toBe(401);
    expect((await httpsCall(base, { method: 'DELETE', path: '/api/users/carol', token })).status).toBe(204);
  });

  it('a task followed by polling and by server-sent events until it ends', async () => {
    const token = await h.adminToken();
    let step!: (v: void) => void;
    let gate = new Promise<void>((r) => (step = r));
    const task = h.platform.tasks.start({ kind: 'test.copy', entity: { kind: EntityKind.VM, id: 'vm-7' } }, async (progress) => {
      await gate;
      progress.update({ bytesDone: 50, bytesTotal: 100 });
      gate = new Promise<void>((r) => (step = r));
      await gate;
      return { copied: 100 };
    });
    const stream = readSse<{ state: string; percent: number }>(base, `/api/tasks/${task.id}/events`, token, (m) => {
      if (m.length === 1) step();
      if (m.length === 2) step();
      return false;
    });
    const { status, messages } = await stream;
    expect(status).toBe(200);
    expect(messages.map((m) => [m.state, m.percent])).toEqual([
      ['running', 0],
      ['running', 50],
      ['success', 100],
    ]);
    const polled = await httpsCall(base, { method: 'GET', path: `/api/tasks/${task.id}`, token });
    expect(polled.json()).toMatchObject({ state: 'success', result: { copied: 100 }, bytesDone: 50, bytesTotal: 100 });
    const list = await httpsCall(base, { method: 'GET', path: '/api/tasks?kind=test.copy', token });
    expect(list.json<Array<{ id: string }>>().map((t) => t.id)).toEqual([task.id]);
    expect((await httpsCall(base, { method: 'GET', path: '/api/tasks/nope', token })).status).toBe(404);
  });

  it('events: list with filters, stream with replay, alarms and acknowledge', async () => {
    const token = await h.adminToken();
    const vm = { kind: EntityKind.VM, id: 'vm-9' };
    const first = h.platform.events.post({ type: 'vm.locked.kmsClusterError', severity: 'critical', message: 'vm-9 locked', entity: vm });
    const got = await httpsCall(base, { method: 'GET', path: `/api/events?entityKind=vm&entityId=vm-9&type=vm.locked.*&severity=error`, token });
    expect(got.json<Array<{ id: number }>>().map((e) => e.id)).toEqual([first.id]);

    const streamed = readSse<{ id: number; type: string }>(base, `/api/events/stream?afterId=${first.id - 1}&entityKind=vm&entityId=vm-9`, token, (m) => {
      if (m.length === 1) h.platform.events.post({ type: 'vm.unlocked', severity: 'info', message: 'vm-9 unlocked', entity: vm });
      return m.length >= 2;
    });
    const { messages } = await streamed;
    expect(messages.map((m) => m.type)).toEqual(['vm.locked.kmsClusterError', 'vm.unlocked']);

    h.platform.events.post({ type: 'vm.locked.keyMissingOnKms', severity: 'critical', message: 'vm-9 locked again', entity: vm });
    const alarms = (await httpsCall(base, { method: 'GET', path: '/api/alarms?entityKind=vm&entityId=vm-9', token })).json<Array<{ id: number; status: string }>>();
    expect(alarms).toHaveLength(1);
    expect(alarms[0]!.status).toBe('red');
    const ack = await httpsCall(base, { method: 'POST', path: `/api/alarms/${alarms[0]!.id}/ack`, token });
    expect(ack.json()).toMatchObject({ acknowledged: { by: 'admin' } });
    expect((await httpsCall(base, { method: 'POST', path: '/api/alarms/987654/ack', token })).status).toBe(404);
  });

  it('metrics require System.Read and count requests by route', async () => {
    expect((await httpsCall(base, { method: 'GET', path: '/metrics' })).status).toBe(401);
    const m = await httpsCall(base, { method: 'GET', path: '/metrics', token: await h.adminToken() });
    expect(m.body).toContain('vmcrypt_manager_http_requests_total{method="GET",route="/api/events",status="200"}');
    expect(m.body).toContain('vmcrypt_manager_tasks{kind="test.copy",state="success"} 1');
  });
});

describe('route registration', () => {
  it('a route without privilege, public or authenticatedOnly fails at registration', async () => {
    const h = await startApiHarness();
    try {
      const open: RouteModule = (app) => {
        app.get('/api/oops', { schema: {} }, async () => ({}));
      };
      await expect(buildApi({ platform: h.platform, routes: [open], logger: h.platform.log })).rejects.toThrow(
        /route GET \/api\/oops must set exactly one of config.privilege, config.public, config.authenticatedOnly/,
      );
      const both: RouteModule = (app) => {
        app.get('/api/both', { config: { public: true, privilege: Privilege.SYSTEM_READ } }, async () => ({}));
      };
      await expect(buildApi({ platform: h.platform, routes: [both], logger: h.platform.log })).rejects.toThrow(/it sets 2/);
      const res = await h.app.inject({ url: '/api/nothing-here', headers: bearer(await h.adminToken()) });
      expect(res.json()).toEqual({ error: { code: 'MANAGER_NOT_FOUND', message: 'no route GET /api/nothing-here' } });
    } finally {
      await h.close();
    }
  });
});

