import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { kmsPaths } from '../../../src/kms/data-dir.js';
import { repoRoot } from '../../helpers/cli.js';
import { stopAll } from '../../helpers/process.js';
import { kmsNode, makeKmsDataDir, type KmsDataDir, type KmsNode } from '../../keyprovider/kms-nodes.js';
import { addHostToManager, startAgent, type AgentProcess, type AddedHost } from '../helpers/host-agents.js';
import { startManagerProcess, type ManagerProcess } from '../helpers/manager-process.js';
import { launchConsoleBrowser, type ConsoleBrowser } from './chromium.js';
import { capNextMigration, sideMonitorQemu } from '../migration/migration-throttle.js';
import { createLocalVm, logInAs, openMigrateForm, submitMigrate } from './console-helpers.js';

/**
 * The web console in Debian's Chromium against real processes: `vmcrypt kms serve`,
 * `vmcrypt manager serve`, two `vmcrypt host serve` agents. Screenshots of the main pages go to
 * the test's temporary directory, or with VMCRYPT_UPDATE_SCREENSHOTS=1 to docs/screenshots/ (the
 * README shows them), so that `npm test` leaves the working tree as it found it.
 */
const shotsDir = (): string => (process.env['VMCRYPT_UPDATE_SCREENSHOTS'] === '1' ? join(repoRoot, 'docs', 'screenshots') : join(root, 'screenshots'));
const CAROL_PASSWORD = 'carol-console-pass-1';
const DAVE_PASSWORD = 'dave-console-pass-1';

let root: string;
let kmsData: KmsDataDir;
let kms: KmsNode;
let manager: ManagerProcess;
let browser: ConsoleBrowser;
let admin: Page;
const agents: Array<AgentProcess & { port: number; dir: string; name: string }> = [];
const hosts: AddedHost[] = [];
let plainVmId = '';
let carolVmId = '';
let encryptedVmId = '';
let sharedDsId = '';

const api = () => manager.admin;
const qmpDir = (): string => join(root, 'qmp');
const shot = (page: Page, name: string) => page.screenshot({ path: join(shotsDir(), `${name}.png`), fullPage: true, animations: 'disabled' });

const createVm = (name: string, policyId: string, host: AddedHost): Promise<string> => createLocalVm(api(), name, policyId, host);
const logIn = (page: Page, user: string, password: string): Promise<void> => logInAs(page, manager.url, user, password);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vmcrypt-console-'));
  // every QEMU the agents start gets a second QMP monitor of the test's (a migration can be slowed)
  process.env['VMCRYPT_QEMU'] = await sideMonitorQemu(qmpDir());
  await mkdir(shotsDir(), { recursive: true });
  kmsData = await makeKmsDataDir();
  kms = await kmsNode('kms1', kmsData);
  const starts = await Promise.all([
    kms.start(),
    startManagerProcess(join(root, 'manager'), { pollMs: 200, keyRetryMs: 300 }),
    startAgent(join(root, 'esx1'), 'esx1'),
    startAgent(join(root, 'esx2'), 'esx2'),
  ]);
  manager = starts[1];
  agents.push({ ...starts[2], dir: join(root, 'esx1'), name: 'esx1' }, { ...starts[3], dir: join(root, 'esx2'), name: 'esx2' });

  // the operator's setup through the API: key provider with trust both ways, a cluster, two hosts
  await api().post('/api/key-providers', { name: 'kp1', servers: [{ name: 'kms1', host: '127.0.0.1', port: kms.port }] });
  await api().post('/api/key-providers/kp1/trust/server-certificates', { certPem: await readFile(kmsPaths(kmsData.dir).caCert, 'utf8') });
  const id = await kmsData.identity('vmcrypt-manager-console');
  await api().post('/api/key-providers/kp1/trust/client-certificate', { certPem: String(id.cert), keyPem: String(id.key) });
  await api().post('/api/key-providers/kp1/health');
  const cluster = await api().post<{ id: string }>('/api/clusters', { name: 'prod', ha: true });
  for (const a of agents) hosts.push(await addHostToManager(api(), a, cluster.id));
  await mkdir(join(root, 'shared'));
  sharedDsId = (await api().post<{ id: string }>('/api/datastores', { name: 'shared', path: join(root, 'shared'), hostIds: hosts.map((x) => x.id) })).id;
  plainVmId = await createVm('web-01', 'datastore-default', hosts[0] as AddedHost);
  carolVmId = await createVm('app-01', 'datastore-default', hosts[1] as AddedHost);
  await api().post('/api/users', { name: 'carol', password: CAROL_PASSWORD });
  await api().call('PUT', '/api/permissions', { principal: 'carol', entity: { kind: 'root', id: 'root' }, role: 'No Cryptography Administrator' });
  await api().post('/api/users', { name: 'dave', password: DAVE_PASSWORD });
  await api().call('PUT', '/api/permissions', { principal: 'dave', entity: { kind: 'root', id: 'root' }, role: 'Read-only' });

  browser = await launchConsoleBrowser(manager.url, manager.dataDir);
  admin = await browser.newPage();
}, 240_000);

afterAll(async () => {
  delete process.env['VMCRYPT_QEMU'];
  await browser?.close();
  await stopAll();
  await kms?.stop();
  await kmsData?.remove();
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

describe('web console in Chromium', () => {
  it('serves the page with a strict CSP and refuses a bad login', async () => {
    const res = await admin.goto(`${manager.url}/`);
    const csp = res?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    await admin.waitForSelector('#login-user');
    await shot(admin, 'login');
    await admin.fill('#login-user', 'admin');
    await admin.fill('#login-password', 'not-the-password');
    await admin.click('#login-submit');
    await expect.poll(() => admin.textContent('#login-error'), { timeout: 30_000 }).toContain('wrong user name or password');
    expect(await admin.evaluate('sessionStorage.length')).toBe(0);
    expect(await admin.locator('header.top').count()).toBe(0);
  });

  it('logs in and shows the inventory tree with encryption, lock, compliance and provider per VM', async () => {
    await logIn(admin, 'admin', manager.adminPassword);
    expect(await admin.textContent('#who')).toContain('admin');
    const row = admin.locator(`#vm-table tr[data-vm-id="${plainVmId}"]`);
    await row.waitFor();
    expect(await row.locator('[data-field=encryption]').textContent()).toBe('not encrypted');
    expect(await row.locator('[data-field=compliance]').textContent()).toBe('compliant');
    const tree = await admin.textContent('#inventory-tree');
    expect(tree).toContain('prod');
    expect(tree).toContain('esx1');
    expect(tree).toContain('esx2');
    expect(tree).toContain('web-01');
  });

  it('encrypts a VM and follows its task to 100 %', async () => {
    // Encrypt = give the VM the VM Encryption Policy, from its page
    await admin.goto(`${manager.url}/#/vm/${plainVmId}`);
    await admin.click('button[data-action=encrypt]:not([disabled])');
    encryptedVmId = plainVmId;
    const task = admin.locator('.task').first();
    await task.waitFor();
    await expect.poll(() => task.getAttribute('data-state'), { timeout: 120_000 }).toBe('success');
    expect(await task.getAttribute('data-percent')).toBe('100');
    expect(await task.locator('.pct').textContent()).toBe('100 %');
    await shot(admin, 'task-progress');
    await admin.goto(`${manager.url}/#/inventory`);
    const row = admin.locator(`#vm-table tr[data-vm-id="${encryptedVmId}"]`);
    await expect.poll(() => row.locator('[data-field=encryption]').textContent(), { timeout: 30_000 }).toBe('encrypted');
    expect(await row.textContent()).toContain('kp1');
    await shot(admin, 'inventory');
  });

  it('shows the VM page: disks and key ids, the key hierarchy picture, crypto actions', async () => {
    await admin.goto(`${manager.url}/#/vm/${encryptedVmId}`);
    await admin.waitForSelector('#key-hierarchy .kek');
    const vm = await api().get<{ observed: { keys: Array<{ part: string; key: { keyId: string } }> } }>(`/api/vms/${encryptedVmId}`);
    const kek = vm.observed.keys[0]?.key.keyId ?? '';
    expect(kek).not.toBe('');
    expect(await admin.locator(`#vm-disks code[title="${kek}"]`).count()).toBeGreaterThan(0);
    expect(await admin.locator('#key-hierarchy .provider').textContent()).toContain('kp1');
    expect(await admin.locator('#key-hierarchy .dek').count()).toBe(vm.observed.keys.length);
    // an encrypted VM cannot be encrypted again; the reason says so
    expect(await admin.locator('button[data-action=encrypt]').isDisabled()).toBe(true);
    expect(await admin.locator('[data-reason-for=encrypt]').textContent()).toContain('already encrypted');
    await shot(admin, 'vm');
  });

  it('rekeys (shallow) from the VM page: the task ends and the new KEK id shows', async () => {
    const keyOf = async () => (await api().get<{ observed: { keys: Array<{ key: { keyId: string } }> } }>(`/api/vms/${encryptedVmId}`)).observed.keys[0]?.key.keyId ?? '';
    const kek = await keyOf();
    await admin.goto(`${manager.url}/#/vm/${encryptedVmId}`);
    {
      await admin.click('button[data-action=rekey]:not([disabled])');
      const task = admin.locator('#vm-tasks .task', { hasText: /rekey/i }).first();
      await task.waitFor();
      await expect.poll(() => task.getAttribute('data-state'), { timeout: 120_000 }).toBe('success');
      await expect.poll(keyOf, { timeout: 30_000 }).not.toBe(kek);
      const next = await keyOf();
      await admin.waitForSelector(`#vm-disks code[title="${next}"]`);
    }
  });

  it('restart of its host: the VM shows locked (alarm acknowledged meanwhile), then unlocked once its keys are pushed again', async () => {
    await admin.goto(`${manager.url}/#/vm/${encryptedVmId}`);
    await admin.waitForSelector('#vm-lock [data-locked=false]');
    // the KMS is down while the host restarts, so the locked state lasts long enough to be seen
    await kms.stop();
    const a = agents[0];
    if (a === undefined) throw new Error('no agent');
    await a.proc.kill(); // kill -9: the host "reboots" with an empty key cache
    agents[0] = { ...(await startAgent(a.dir, a.name, a.port)), dir: a.dir, name: a.name };
    await admin.waitForSelector('#vm-lock [data-locked=true]', { timeout: 60_000 });
    expect(await admin.textContent('#vm-lock')).toContain('locked');
    expect(await admin.locator('button[data-action=unlock]').isDisabled()).toBe(false);
    await shot(admin, 'vm-locked');

    // events and alarms while it is locked: the vm.locked alarm is listed and acknowledged
    await admin.goto(`${manager.url}/#/events`);
    await admin.waitForSelector('#event-rows tr[data-type^="vm.locked"]');
    const alarm = (await api().get<Array<{ id: number; name: string; entity: { id: string } }>>('/api/alarms')).find((x) => x.name === 'vm.locked' && x.entity.id === encryptedVmId);
    expect(alarm).toBeDefined();
    await admin.locator(`#alarm-rows tr[data-alarm-id="${alarm?.id}"] button[data-action=ack]`).click();
    await expect.poll(async () => (await api().get<Array<{ id: number; acknowledged?: { by: string } }>>('/api/alarms')).find((x) => x.id === alarm?.id)?.acknowledged?.by, { timeout: 30_000 }).toBe('admin');
    await admin.waitForSelector(`#alarm-rows tr[data-alarm-id="${alarm?.id}"] >> text=admin`);
    await admin.screenshot({ path: join(shotsDir(), 'events.png') });

    await kms.start();
    await admin.goto(`${manager.url}/#/vm/${encryptedVmId}`);
    await admin.waitForSelector('#vm-lock [data-locked=false]', { timeout: 90_000 });
    expect(await admin.textContent('#vm-lock')).toContain('unlocked');
  });

  it('key providers show per-server health, latency and certificate expiry', async () => {
    await admin.goto(`${manager.url}/#/providers`);
    const card = admin.locator('[data-provider-id=kp1]');
    await card.waitFor();
    await card.locator('button[data-action=check-health]').click();
    await expect.poll(() => card.locator('[data-field=health]').textContent(), { timeout: 30_000 }).toBe('health green');
    await expect.poll(() => card.locator('tr[data-server=kms1] [data-field=latency]').textContent(), { timeout: 30_000 }).toMatch(/ms$/);
    expect(await card.locator('tr[data-server=kms1] [data-field=cert-days]').textContent()).toMatch(/^\d+ days$/);
    await shot(admin, 'key-providers');
  });

  it('tasks and users pages', async () => {
    await admin.goto(`${manager.url}/#/tasks`);
    await admin.waitForSelector('#task-list .task[data-state=success]');
    await shot(admin, 'tasks');
    await admin.goto(`${manager.url}/#/users`);
    await admin.waitForSelector('#users tr[data-user=carol]');
    expect(await admin.textContent('#users tr[data-user=carol]')).toContain('No Cryptography Administrator');
    await shot(admin, 'users');
  });

  it('a No Cryptography Administrator sees crypto actions disabled with the reason', async () => {
    const carol = await browser.newPage();
    await logIn(carol, 'carol', CAROL_PASSWORD);
    expect(await carol.textContent('#who')).toContain('No Cryptography Administrator');
    await carol.goto(`${manager.url}/#/vm/${carolVmId}`);
    const encrypt = carol.locator('button[data-action=encrypt]');
    await encrypt.waitFor();
    expect(await encrypt.isDisabled()).toBe(true);
    expect(await carol.textContent('[data-reason-for=encrypt]')).toContain('You lack Cryptographer.Encrypt on this VM (your role: No Cryptography Administrator)');
    await shot(carol, 'no-crypto-admin');
    await carol.goto(`${manager.url}/#/vm/${encryptedVmId}`);
    await carol.locator('[data-reason-for=decrypt]').waitFor();
    for (const [action, privilege] of [['decrypt', 'Cryptographer.Decrypt'], ['rekey', 'Cryptographer.Recrypt'], ['deep-rekey', 'Cryptographer.Recrypt'], ['clone', 'Cryptographer.Clone'], ['migrate', 'Cryptographer.Migrate']]) {
      expect(await carol.locator(`button[data-action=${action}]`).isDisabled()).toBe(true);
      expect(await carol.textContent(`[data-reason-for=${action}]`)).toContain(privilege);
    }
    // the manager agrees: the API refuses her crypto calls whatever the page shows
    const r = await carol.evaluate(`fetch('/api/vms/${encryptedVmId}/unlock', { method: 'POST', body: '{}',
      headers: { authorization: 'Bearer ' + sessionStorage.getItem('vmcrypt.session'), 'content-type': 'application/json' } }).then((res) => res.status)`);
    expect(r).toBe(403);
    await carol.close();
  });

  it('migrates from the VM page: host and/or datastore, its migrateEncryption and whether the move is encrypted shown, the task in the task lists', async () => {
    // a Read-only user sees the action disabled, the missing privilege named
    const dave = await browser.newPage();
    await logIn(dave, 'dave', DAVE_PASSWORD);
    await dave.goto(`${manager.url}/#/vm/${carolVmId}`);
    await dave.locator('[data-reason-for=migrate]').waitFor();
    expect(await dave.locator('button[data-action=migrate]').isDisabled()).toBe(true);
    expect(await dave.textContent('[data-reason-for=migrate]')).toContain('You lack Resource.HotMigrate on this VM (your role: Read-only)');
    await dave.close();

    const succeeded = async (task: Locator) => {
      await expect.poll(() => task.getAttribute('data-state'), { timeout: 120_000 }).toBe('success');
      return task;
    };
    // powered off, on esx2's local datastore: to esx1 through the shared one (its files move first)
    await admin.goto(`${manager.url}/#/vm/${carolVmId}`);
    await openMigrateForm(admin, 'esx1');
    expect(await admin.inputValue('#migrate-datastore')).toBe(sharedDsId);
    expect(await admin.textContent('#migrate-encrypted')).toBe('no memory stream');
    expect(await admin.textContent('#migrate-verdict')).toContain('Powered off');
    await succeeded(await submitMigrate(admin));
    await expect.poll(async () => (await api().get<{ hostId: string; datastoreId: string }>(`/api/vms/${carolVmId}`)), { timeout: 30_000 })
      .toMatchObject({ hostId: hosts[0]?.id, datastoreId: sharedDsId });

    // running: live back to esx2 on the same datastore, encrypted as both hosts can; the source
    // QEMU's bandwidth capped (its side monitor) so the running task is seen with its figures
    await api().post(`/api/vms/${carolVmId}/power-on`);
    await admin.goto(`${manager.url}/#/vm/${carolVmId}`);
    await admin.locator('table.facts', { hasText: 'powered on' }).waitFor();
    await openMigrateForm(admin, 'esx2');
    expect(await admin.inputValue('#migrate-datastore')).toBe('');
    // both hosts polled by now: the manager's own verdict, not the condition
    expect(await admin.textContent('#migrate-encrypted')).toBe('encrypted');
    expect(await admin.textContent('#migrate-verdict')).toBe('encrypted (one-time AES-256-GCM key)');
    await shot(admin, 'migrate');
    const cap = await capNextMigration(qmpDir(), carolVmId, 384 << 10);
    try {
      const task = await submitMigrate(admin);
      await expect.poll(() => task.locator('.msg').textContent(), { timeout: 60_000 }).toMatch(/^migrating memory, \d+\.\d MB\/s, \d+ MiB remaining · /);
      expect(Number(await task.getAttribute('data-percent'))).toBeGreaterThanOrEqual(10);
      await shot(admin, 'migrate-progress');
      await succeeded(task);
      expect(await task.locator('.msg').textContent()).toMatch(/^done · live, encrypted over (qemu-psk|tunnel), downtime \d+ ms$/);
      await admin.locator('table.facts tr', { hasText: 'Host' }).filter({ hasText: 'esx2' }).waitFor();
      await shot(admin, 'migrate-task');
      const id = await task.getAttribute('data-task-id');
      await admin.goto(`${manager.url}/#/tasks`);
      await admin.waitForSelector(`#task-list .task[data-task-id="${id}"][data-state=success]`);
    } finally {
      cap.close();
    }
    await api().post(`/api/vms/${carolVmId}/power-off`);
  });

  it('fetched nothing outside the manager and broke no CSP rule', () => {
    expect(browser.foreignRequests).toEqual([]);
    expect(browser.pageErrors.filter((e) => /Content Security Policy|Uncaught|TypeError|ReferenceError/.test(e))).toEqual([]);
  });
});
