import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import type { AddedHost } from '../helpers/host-agents.js';
import type { ManagerApi } from '../helpers/manager-api.js';

/** A VM on the host's local datastore (`NAME-local`), its create task waited for. */
export async function createLocalVm(api: ManagerApi, name: string, policyId: string, host: AddedHost): Promise<string> {
  const ds = (await api.get<{ datastores: Array<{ id: string; name: string }> }>('/api/datastores')).datastores.find((d) => d.name === `${host.name}-local`);
  const r = await api.post<{ task: { id: string } }>('/api/vms', { name, hostId: host.id, datastoreId: ds?.id, policyId, disks: [{ sizeBytes: 4 << 20 }] });
  const t = await api.waitTask<{ result?: { vmId: string }; error?: unknown }>(r.task.id);
  expect(t.state, JSON.stringify(t.error)).toBe('success');
  return t.result?.vmId ?? '';
}

/** The console's login page, filled in and sent; resolves once the header shows who is logged in. */
export async function logInAs(page: Page, managerUrl: string, user: string, password: string): Promise<void> {
  await page.goto(`${managerUrl}/#/login`);
  await page.fill('#login-user', user);
  await page.fill('#login-password', password);
  await page.click('#login-submit');
  await page.waitForSelector('header.top #who');
}
