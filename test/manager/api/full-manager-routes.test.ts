import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openManager, type RunningManager } from '../../../src/manager/manager.js';
import { httpsCall } from './https-client.js';
import { operationsOf, walkAccessMatrix, walkBadInput, type Operation } from './route-walk.js';

/**
 * Generic over every route the full manager registers (platform + inventory + key management):
 * the RBAC matrix derived from each route's privilege, and bad input on every route with a body.
 */
describe('every route of the full manager', () => {
  let dir: string;
  let m: RunningManager;
  let ops: Operation[];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmcrypt-mgr-full-'));
    m = await openManager({ dataDir: join(dir, 'data'), listen: { host: '127.0.0.1', port: 0 }, adminPassword: 'admin-password-full', startMonitor: false });
    const doc = await httpsCall(m.url!, { method: 'GET', path: '/api/openapi.json' });
    ops = operationsOf(doc.json());
  });
  afterAll(async () => {
    await m?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('the document covers the platform, inventory and key-management routes', () => {
    const paths = new Set(ops.map((o) => o.path));
    for (const p of ['/api/session', '/api/events', '/api/vms', '/api/hosts']) expect(paths, p).toContain(p);
    expect(ops.length).toBeGreaterThan(30);
  });

  it('RBAC matrix: route × built-in role, allow iff the role holds the route privilege; denials name it', async () => {
    const { allows, denials } = await walkAccessMatrix(m.url!, m.platform, ops);
    expect(allows + denials).toBe(ops.filter((o) => !o.public).length * 3);
    expect(denials).toBeGreaterThan(0);
  });

  it('migration routes (issue 14) carry their privileges: Resource.HotMigrate on the VM, VirtualMachine.Inventory.Register for the destination side', () => {
    const priv = (method: string, path: string) => ops.find((o) => o.method === method && o.path === path)?.privilege;
    expect(priv('POST', '/api/vms/{id}/migrate')).toBe('Resource.HotMigrate');
    expect(priv('POST', '/api/migrations/incoming')).toBe('VirtualMachine.Inventory.Register');
    expect(priv('POST', '/api/migrations/{id}/commit')).toBe('VirtualMachine.Inventory.Register');
    expect(priv('DELETE', '/api/migrations/{id}')).toBe('VirtualMachine.Inventory.Register');
  });

  it('bad input: every route with a body refuses an unknown field and a wrong type, naming the field', async () => {
    const token = m.platform.sessions.create('admin').token;
    const checked = await walkBadInput(m.url!, token, ops);
    expect(checked).toBe(ops.filter((o) => o.body?.type === 'object').length);
  });
});
