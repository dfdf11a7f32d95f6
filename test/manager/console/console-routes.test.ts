import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { consolePublicDir, loadConsoleAssets } from '../../../src/manager/console/console-assets.js';
import { consoleRoutes } from '../../../src/manager/console/console-routes.js';
import { bearer, startApiHarness, type ApiHarness } from '../api/harness.js';

/** The console's routes through fastify's inject: headers, the asset map, the privileges route. */
let h: ApiHarness;

beforeAll(async () => {
  h = await startApiHarness({ routes: (p) => [consoleRoutes(p)] });
});

afterAll(async () => {
  await h?.close();
});

async function jsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.js')) out.push(join(e.parentPath, e.name));
  }
  return out;
}

describe('console routes', () => {
  it('serves the page at / with a strict CSP and hardening headers', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    // no inline script or style in the page itself: the CSP would block it
    expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|<style|style=/);
  });

  it('serves each asset the page names, with its type and the CSP', async () => {
    const page = (await h.app.inject({ method: 'GET', url: '/' })).body;
    const refs = [...page.matchAll(/(?:src|href)="(\/console\/[^"]+)"/g)].map((m) => m[1] as string);
    expect(refs.length).toBeGreaterThanOrEqual(3);
    for (const url of refs) {
      const res = await h.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-security-policy'], url).toBeDefined();
    }
    const js = await h.app.inject({ method: 'GET', url: '/console/js/main.js' });
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
  });

  it('answers 404 for anything outside the loaded files (no traversal, no index.html twice)', async () => {
    for (const url of ['/console/../package.json', '/console/%2e%2e/%2e%2e/package.json', '/console/js/../../tsconfig.json', '/console/nope.js', '/console/index.html', '/console/tsconfig.json']) {
      const res = await h.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
    }
  });

  it('stays out of the OpenAPI document (it is not API), except the privileges route', async () => {
    const doc = (await h.app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => p === '/' || p.startsWith('/console'))).toEqual([]);
    expect(doc.paths['/api/session/privileges']).toBeDefined();
  });

  it('every module import of the console resolves to a served file; nothing names another origin or uses innerHTML', async () => {
    const dir = consolePublicDir();
    const assets = await loadConsoleAssets(dir);
    for (const file of await jsFiles(dir)) {
      const text = await readFile(file, 'utf8');
      const rel = file.slice(dir.length + 1);
      for (const m of text.matchAll(/from '(\.[^']+)'/g)) {
        const target = new URL(m[1] as string, `http://x/${rel}`).pathname.slice(1);
        expect(assets.has(target), `${rel} imports ${m[1]}`).toBe(true);
      }
      expect(text, rel).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
      expect(text, rel).not.toMatch(/https?:\/\/(?!x\/)(?!www\.w3\.org\/2000\/svg)/);
    }
  });
});

describe('GET /api/session/privileges', () => {
  it('needs a session', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/session/privileges' });
    expect(res.statusCode).toBe(401);
  });

  it('tells an administrator and a No Cryptography Administrator what they may do', async () => {
    const admin = await h.adminToken();
    const mine = (await h.app.inject({ method: 'GET', url: '/api/session/privileges', headers: bearer(admin) })).json() as { role: string; privileges: string[] };
    expect(mine.role).toBe('Administrator');
    expect(mine.privileges).toContain('Cryptographer.Encrypt');

    const created = await h.app.inject({ method: 'POST', url: '/api/users', headers: bearer(admin), payload: { name: 'carol', password: 'carol-pass-123' } });
    expect(created.statusCode).toBeLessThan(300);
    const granted = await h.app.inject({ method: 'PUT', url: '/api/permissions', headers: bearer(admin), payload: { principal: 'carol', entity: { kind: 'root', id: 'root' }, role: 'No Cryptography Administrator' } });
    expect(granted.statusCode).toBeLessThan(300);
    const carol = await h.login('carol', 'carol-pass-123');
    const hers = (await h.app.inject({ method: 'GET', url: '/api/session/privileges?entityKind=root&entityId=root', headers: bearer(carol) })).json() as { role: string; privileges: string[] };
    expect(hers.role).toBe('No Cryptography Administrator');
    expect(hers.privileges).toContain('VirtualMachine.Config.Settings');
    expect(hers.privileges.filter((p) => p.startsWith('Cryptographer.'))).toEqual([]);
  });

  it('answers for an unknown object as for the root, echoing the object asked (existence is not revealed)', async () => {
    const admin = await h.adminToken();
    const res = await h.app.inject({ method: 'GET', url: '/api/session/privileges?entityKind=vm&entityId=no-such-vm', headers: bearer(admin) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ entity: { kind: 'vm', id: 'no-such-vm' }, role: 'Administrator' });
  });

  it('refuses a malformed query naming the field', async () => {
    const admin = await h.adminToken();
    const res = await h.app.inject({ method: 'GET', url: '/api/session/privileges?entityKind=planet&entityId=x', headers: bearer(admin) });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('entityKind');
  });
});
