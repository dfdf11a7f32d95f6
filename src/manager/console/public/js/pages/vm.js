// @ts-check
import { api, get, query } from '../api.js';
import { h, keyId, replace, when } from '../dom.js';
import { keyHierarchySvg } from '../key-hierarchy.js';
import { privilegesOn, routeTable } from '../session.js';
import { migrateForm } from '../migrate-form.js';
import { taskProgress } from '../task-progress.js';
import { VM_ACTIONS, judge } from '../vm-actions.js';
import { complianceBadge, disksOf, encryptionBadge, lockBadge, powerText, providerOf } from '../vm-state.js';

/** @typedef {import('../vm-state.js').Vm} Vm */

/**
 * One VM: state, crypto actions (disabled with the reason when not allowed), disks with layers
 * and key ids, the key hierarchy picture, and its tasks with live progress.
 * @param {HTMLElement} main @param {string} vmId @param {import('../main.js').PageContext} ctx
 */
export async function renderVm(main, vmId, ctx) {
  const [routes, mine, policies] = await Promise.all([routeTable(), privilegesOn('vm', vmId), get('/api/policies')]);
  const title = h('h1', { id: 'vm-title' });
  const badges = h('div', { class: 'badges', id: 'vm-badges' });
  const actions = h('div', { class: 'actions', id: 'vm-actions' });
  const actionMsg = h('p', { class: 'action-msg', id: 'vm-action-msg', role: 'status' });
  const formSlot = h('div', { id: 'vm-form' });
  const facts = h('tbody');
  const disks = h('tbody');
  const picture = h('div', { class: 'picture' });
  const tasks = h('div', { class: 'tasks', id: 'vm-tasks' });
  replace(main,
    h('p', null, h('a', { href: '#/inventory' }, '← Inventory')),
    h('div', { class: 'row' }, title, badges),
    actions, actionMsg, formSlot,
    h('div', { class: 'split' },
      h('section', { class: 'card' }, h('h2', null, 'Summary'), h('table', { class: 'facts' }, facts)),
      h('section', { class: 'card grow' }, h('h2', null, 'Key hierarchy'), picture)),
    h('section', { class: 'card' }, h('h2', null, 'Disks, layers and keys'),
      h('table', { class: 'grid', id: 'vm-disks' }, h('thead', null, h('tr', null, h('th', null, 'Part'), h('th', null, 'Layer'), h('th', null, 'Key provider'), h('th', null, 'KEK id'))), disks)),
    h('section', { class: 'card' }, h('h2', null, 'Tasks'), tasks));

  const shownTasks = new Set();
  /** @type {Vm | null} */
  let vm = null;
  const refresh = async () => {
    vm = /** @type {Vm} */ (await get(`/api/vms/${encodeURIComponent(vmId)}`));
    const path = encodeURIComponent(vmId);
    const [hostInfo, info] = await Promise.all([
      get(`/api/hosts/${encodeURIComponent(vm.hostId)}`).catch(() => null),
      // read from the host: absent while the host is down, then the inventory's key parts stand in
      routes.has('GET /api/vms/{id}/encryption') ? get(`/api/vms/${path}/encryption`).catch(() => null) : Promise.resolve(null),
    ]);
    replace(title, vm.name);
    replace(badges, encryptionBadge(vm), lockBadge(vm), complianceBadge(vm));
    const fact = (/** @type {string} */ k, /** @type {Node | string} */ v) => h('tr', null, h('th', null, k), h('td', null, v));
    replace(facts,
      fact('Host', hostInfo?.name ?? vm.hostId),
      fact('Power', powerText(vm.observed.powerState)),
      fact('Storage policy', vm.desired.policyName),
      fact('Key provider', providerOf(vm)),
      fact('Compliance', h('span', null, complianceBadge(vm), ' ', vm.compliance.reason ?? '')),
      fact('Lock', h('span', { id: 'vm-lock' }, lockBadge(vm))),
      fact('Last operation', operationText(vm)),
      fact('Snapshots', info?.snapshots === undefined ? '—' : String(info.snapshots.length)),
      fact('Mixed keys', info?.mixedKeys === true ? h('span', { class: 'badge bad' }, 'layers under different KEKs: rerun the rekey') : 'no'),
      fact('Observed at', when(/** @type {any} */ (vm.observed).observedAt)));
    const rows = [];
    const home = vm.observed.keys.find((k) => k.part === 'vm');
    if (home !== undefined) rows.push(h('tr', null, h('td', null, 'VM home'), h('td', null, '.vmx, NVRAM, logs'), h('td', null, home.key.providerId), h('td', null, keyId(home.key.keyId))));
    for (const d of disksOf(vm, info)) {
      for (const l of d.layers) rows.push(h('tr', null, h('td', null, d.name), h('td', null, l.name), h('td', null, l.key?.providerId ?? '—'), h('td', null, l.key === undefined ? 'not encrypted' : keyId(l.key.keyId))));
    }
    replace(disks, ...(rows.length > 0 ? rows : [h('tr', null, h('td', { colspan: 4, class: 'muted' }, 'Not encrypted: no keys.'))]));
    replace(picture, keyHierarchySvg(vm, info));
    renderActions(vm);
    const list = await get(`/api/tasks${query({ entityKind: 'vm', entityId: vmId, limit: 10 })}`).catch(() => []);
    for (const t of [...list].reverse()) {
      if (shownTasks.has(t.id)) continue;
      shownTasks.add(t.id);
      tasks.prepend(taskProgress(t, ctx.signal, () => void refresh()));
    }
  };

  const actionContext = () => ({
    encryptionPolicyId: policies.policies.find((/** @type {any} */ p) => p.id === 'vm-encryption')?.id,
    defaultPolicyId: policies.policies.find((/** @type {any} */ p) => p.id === 'datastore-default')?.id,
  });

  /** @param {Vm} current */
  const renderActions = (current) => {
    replace(actions, ...VM_ACTIONS.map((a) => {
      const verdict = judge(a, current, mine, routes);
      return h('span', { class: 'action' },
        h('button', { 'data-action': a.id, disabled: !verdict.enabled, title: verdict.reason, onclick: () => void run(a) }, a.label),
        verdict.enabled ? null : h('span', { class: 'reason', 'data-reason-for': a.id }, verdict.reason));
    }));
  };

  /** @param {import('../vm-actions.js').VmAction} a */
  const run = async (a) => {
    if (vm === null) return;
    if (a.form === true) {
      replace(actionMsg);
      delete actionMsg.dataset['taskId'];
      const started = (/** @type {string} */ taskId) => {
        replace(formSlot);
        replace(actionMsg, `${a.label.replace('…', '')}: task ${taskId} started`);
        actionMsg.dataset['taskId'] = taskId;
        void refresh();
      };
      replace(formSlot, await migrateForm(vm, { started, close: () => replace(formSlot) }).catch((err) => h('p', { class: 'error' }, `${a.label} ${err.message}`)));
      return;
    }
    if (a.confirm !== undefined && !window.confirm(a.confirm)) return;
    /** @type {import('../vm-actions.js').ActionContext} */
    const c = actionContext();
    if (a.prompt !== undefined) {
      const name = window.prompt(a.prompt, `${vm.name}-clone`);
      if (name === null || name === '') return;
      c.cloneName = name;
    }
    replace(actionMsg, `${a.label}…`);
    try {
      const r = await api(a.method, a.route.replace('{id}', encodeURIComponent(vm.id)), a.body === undefined ? {} : a.body(vm, c));
      const taskId = r?.task?.id ?? (typeof r?.id === 'string' && typeof r?.state === 'string' ? r.id : undefined);
      replace(actionMsg, taskId === undefined ? `${a.label}: done` : `${a.label}: task ${taskId} started`);
    } catch (err) {
      replace(actionMsg, h('span', { class: 'error' }, `${a.label} refused: ${/** @type {Error} */ (err).message}`));
    }
    await refresh();
  };

  await refresh();
  ctx.every(1000, refresh);
}

/** @param {Vm} vm */
function operationText(vm) {
  const op = vm.operation;
  if (op === undefined) return '—';
  const err = op.error?.message === undefined ? '' : ` — ${op.error.message}`;
  return `${op.kind ?? '?'}: ${op.state ?? '?'}${op.step === undefined ? '' : ` (step ${op.step})`}${err}`;
}
