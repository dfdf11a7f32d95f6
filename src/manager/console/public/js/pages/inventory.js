// @ts-check
import { get } from '../api.js';
import { h, replace, s } from '../dom.js';
import { complianceBadge, encryptionBadge, lockBadge, powerText, providerOf } from '../vm-state.js';
import { newVmForm } from './new-vm.js';

/** @typedef {import('../vm-state.js').Vm} Vm */
/** @typedef {{ id: string, name: string, clusterId?: string, connectionState: string, cryptoMode: string }} Host */

const CONNECTION = /** @type {Record<string, string>} */ ({ connected: 'ok', notResponding: 'bad', disconnected: 'warn' });

/** Clusters → hosts → VMs, with each VM's encryption, lock state, compliance and key provider. */
/** @param {HTMLElement} main @param {string} _param @param {import('../main.js').PageContext} ctx */
export async function renderInventory(main, _param, ctx) {
  const tree = h('nav', { class: 'tree card', id: 'inventory-tree', 'aria-label': 'Inventory tree' });
  const table = h('tbody');
  const formSlot = h('div');
  replace(main,
    h('h1', null, 'Inventory'),
    h('div', { class: 'split' },
      tree,
      h('section', { class: 'card grow' },
        h('h2', null, 'Virtual machines'), formSlot,
        h('table', { class: 'grid', id: 'vm-table' },
          h('thead', null, h('tr', null, ...['Name', 'Host', 'Power', 'Encryption', 'Lock', 'Compliance', 'Key provider', 'Policy'].map((t) => h('th', null, t)))),
          table))));

  let formShown = false;
  const refresh = async () => {
    const [clusters, hosts, vms] = await Promise.all([get('/api/clusters'), get('/api/hosts'), get('/api/vms')]);
    /** @type {Host[]} */
    const hostList = hosts.hosts;
    /** @type {Vm[]} */
    const vmList = vms.vms;
    const hostName = new Map(hostList.map((x) => [x.id, x.name]));
    replace(tree, h('ul', null, ...treeItems(clusters.clusters, hostList, vmList)));
    replace(table, ...vmList.map((vm) => h('tr', { 'data-vm-id': vm.id, 'data-vm-name': vm.name },
      h('td', null, h('a', { href: `#/vm/${encodeURIComponent(vm.id)}` }, vm.name)),
      h('td', null, hostName.get(vm.hostId) ?? vm.hostId),
      h('td', null, powerText(vm.observed.powerState)),
      h('td', null, encryptionBadge(vm)),
      h('td', null, lockBadge(vm)),
      h('td', null, complianceBadge(vm)),
      h('td', null, providerOf(vm)),
      h('td', null, vm.desired.policyName))));
    if (vmList.length === 0) replace(table, h('tr', null, h('td', { colspan: 8, class: 'muted' }, 'No virtual machines yet.')));
    if (!formShown) {
      formShown = true;
      replace(formSlot, await newVmForm(hostList, ctx));
    }
  };
  await refresh();
  ctx.every(2000, refresh);
}

/**
 * @param {Array<{ id: string, name: string, ha: boolean }>} clusters
 * @param {Host[]} hosts
 * @param {Vm[]} vms
 */
function treeItems(clusters, hosts, vms) {
  const hostItem = (/** @type {Host} */ host) => h('li', { 'data-host-id': host.id },
    h('span', { class: 'node host' }, '▣ ', host.name, ' ', h('span', { class: `dot ${CONNECTION[host.connectionState] ?? 'muted'}`, title: host.connectionState }),
      host.cryptoMode === 'safe' ? h('span', { class: 'muted small' }, ' crypto-safe') : null),
    h('ul', null, ...vms.filter((v) => v.hostId === host.id).map((vm) => h('li', null,
      h('a', { class: 'node vm', href: `#/vm/${encodeURIComponent(vm.id)}` }, vmIcon(vm.observed.encrypted), ' ', vm.name,
        vm.observed.locked ? h('span', { class: 'badge bad small' }, 'locked') : null)))));
  const items = clusters.map((c) => h('li', { 'data-cluster-id': c.id },
    h('span', { class: 'node cluster' }, '▤ ', c.name, c.ha ? h('span', { class: 'muted small' }, ' HA') : null),
    h('ul', null, ...hosts.filter((x) => x.clusterId === c.id).map(hostItem))));
  const standalone = hosts.filter((x) => x.clusterId === undefined).map(hostItem);
  if (items.length + standalone.length === 0) return [h('li', { class: 'muted' }, 'No hosts yet: add one with the CLI or POST /api/hosts.')];
  return [...items, ...standalone];
}

/** A padlock for an encrypted VM, an empty box otherwise (drawn: no icon font is fetched). @param {boolean} encrypted */
function vmIcon(encrypted) {
  return encrypted
    ? s('svg', { class: 'lock-icon', viewBox: '0 0 16 16', 'aria-label': 'encrypted' }, s('rect', { x: 2, y: 7, width: 12, height: 8, rx: 1 }), s('path', { d: 'M5 7V5a3 3 0 0 1 6 0v2h-1.6V5a1.4 1.4 0 0 0-2.8 0v2z' }))
    : s('svg', { class: 'vm-icon', viewBox: '0 0 16 16', 'aria-label': 'not encrypted' }, s('rect', { x: 2, y: 3, width: 12, height: 10, rx: 1 }));
}
