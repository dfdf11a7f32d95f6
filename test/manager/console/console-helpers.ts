import { expect } from 'vitest';
import type { Locator, Page } from 'playwright-core';
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

/** On a VM page: Migrate…, the form shows the VM's migrateEncryption (the default here), the host chosen. */
export async function openMigrateForm(page: Page, hostName: string): Promise<void> {
  await page.click('button[data-action=migrate]:not([disabled])');
  await page.waitForSelector('#migrate-form');
  expect(await page.textContent('#migrate-setting')).toBe('opportunistic');
  await page.selectOption('#migrate-host', { label: hostName });
}

/** Sends the migrate form; the task it started, as the VM page's task list shows it. */
export async function submitMigrate(page: Page): Promise<Locator> {
  await page.click('#migrate-submit');
  const id = await page.locator('#vm-action-msg[data-task-id]').getAttribute('data-task-id');
  const task = page.locator(`#vm-tasks .task[data-task-id="${id}"]`);
  await task.waitFor();
  return task;
}
