// @ts-check
import { api, get } from './api.js';
import { badge, h, replace } from './dom.js';

/** @typedef {import('./vm-state.js').Vm} Vm */
/** @typedef {{ encryption: boolean, channels: string[] }} HostMigration */
/** @typedef {{ id: string, name: string, connectionState?: string, migration?: HostMigration }} Host */
/** @typedef {{ id: string, name: string, hosts: Array<{ hostId: string }> }} Datastore */

/**
 * What the move does with the VM's memory, as the manager's migrateEncryption matrix decides it
 * (docs/manager.md "Migration"): an encrypted VM always migrates encrypted; otherwise disabled /
 * opportunistic / required. Only a running VM going to another host sends its memory. When both
 * hosts' `migration` (GET /api/hosts, from the manager's last poll) is known, the verdict is the
 * manager's (migrate-policy.ts); unknown, "when both hosts can" stays a condition here.
 * @param {Vm} vm @param {string} setting @param {{ hostChange: boolean, dsChange: boolean }} move
 * @param {{ source?: Host, destination?: Host }} [ends] the VM's host and the one chosen
 * @returns {{ text: string, kind: string, encrypted: string }}
 */
export function moveEncryption(vm, setting, move, ends = {}) {
  const files = vm.observed.encrypted ? 'its files stay encrypted at rest' : 'its files are not encrypted';
  if (!move.hostChange && !move.dsChange) return { text: 'Choose another host, another datastore or both.', kind: 'muted', encrypted: '—' };
  if (!move.hostChange) return { text: `Storage migration: the VM's files are copied to the datastore, the old ones removed once the copy is committed; ${files}. No memory stream.`, kind: 'info', encrypted: 'no memory stream' };
  if (vm.observed.powerState !== 'poweredOn') {
    return { text: `Powered off: ${move.dsChange ? 'its files move to the datastore, then ' : ''}the VM is registered on the host; ${files}. No memory stream.`, kind: 'info', encrypted: 'no memory stream' };
  }
  if (setting !== 'disabled' || vm.observed.encrypted) {
    const known = knownVerdict(vm.observed.encrypted, setting, ends.source, ends.destination);
    if (known !== undefined) return known;
  }
  if (vm.observed.encrypted) return { text: 'An encrypted VM always migrates encrypted (a one-time AES-256-GCM key for this move), whatever its setting.', kind: 'ok', encrypted: 'encrypted' };
  if (setting === 'disabled') return { text: 'migrateEncryption is disabled: the VM\'s memory crosses the network in clear.', kind: 'warn', encrypted: 'NOT encrypted' };
  if (setting === 'required') return { text: 'A one-time AES-256-GCM key for this move; refused before anything moves if either host cannot encrypt migrations.', kind: 'ok', encrypted: 'encrypted' };
  return { text: 'A one-time AES-256-GCM key when both hosts can encrypt migrations; otherwise plain, with a warning event.', kind: 'info', encrypted: 'encrypted when both hosts can' };
}

const ENCRYPTED_CHANNELS = ['tunnel', 'qemu-psk'];

/**
 * The manager's rule with both hosts' capabilities known: encrypted over a channel both share;
 * otherwise an encrypted VM or `required` is refused, `opportunistic` goes plain with a warning.
 * @param {boolean} vmEncrypted @param {string} setting @param {Host} [src] @param {Host} [dst]
 * @returns {{ text: string, kind: string, encrypted: string } | undefined} undefined while either is unknown
 */
function knownVerdict(vmEncrypted, setting, src, dst) {
  const a = src?.migration;
  const b = dst?.migration;
  if (src === undefined || dst === undefined || a == null || b == null) return undefined;
  if (a.encryption && b.encryption && ENCRYPTED_CHANNELS.some((c) => a.channels.includes(c) && b.channels.includes(c))) {
    return { text: 'encrypted (one-time AES-256-GCM key)', kind: 'ok', encrypted: 'encrypted' };
  }
  const unable = [a.encryption ? undefined : `host ${src.name}`, b.encryption ? undefined : `host ${dst.name}`].filter((x) => x !== undefined);
  const reason = unable.length > 0 ? `${unable.join(' and ')} cannot encrypt migrations` : 'the hosts share no encrypted channel';
  if (vmEncrypted) return { text: `refused: the VM is encrypted (it migrates only encrypted) and ${reason}`, kind: 'bad', encrypted: 'refused' };
  if (setting === 'required') return { text: `refused: migrateEncryption is required and ${reason}`, kind: 'bad', encrypted: 'refused' };
  return { text: `plain (${reason}): a warning event`, kind: 'warn', encrypted: 'NOT encrypted' };
}

/**
 * The "Migrate…" form of a VM page: destination host, datastore, or both (datastores offered
 * are those both the VM's host and the destination mount, as the manager requires), the VM's migrateEncryption and whether this move will be
 * encrypted, then POST /api/vms/ID/migrate. The task's progress shows in the page's task list.
 * @param {Vm} vm
 * @param {{ started: (taskId: string) => void, close: () => void }} on `started` once the manager took the move (the page then closes the form)
 * @returns {Promise<HTMLElement>}
 */
export async function migrateForm(vm, on) {
  const path = encodeURIComponent(vm.id);
  const [hostList, dsList, settings] = await Promise.all([get('/api/hosts'), get('/api/datastores'), get(`/api/vms/${path}/settings`).catch(() => ({}))]);
  /** @type {Host[]} */
  const hosts = hostList.hosts ?? [];
  /** @type {Datastore[]} */
  const datastores = dsList.datastores ?? [];
  const setting = typeof settings.migrateEncryption === 'string' ? settings.migrateEncryption : 'opportunistic';
  const here = hosts.find((x) => x.id === vm.hostId)?.name ?? vm.hostId;
  const ds = datastores.find((d) => d.id === vm.datastoreId)?.name ?? vm.datastoreId;

  const host = h('select', { id: 'migrate-host' },
    h('option', { value: '' }, `stay on ${here}`),
    ...hosts.filter((x) => x.id !== vm.hostId).map((x) => h('option', { value: x.id, disabled: x.connectionState !== undefined && x.connectionState !== 'connected' }, x.name)));
  const datastore = h('select', { id: 'migrate-datastore' });
  const verdict = h('p', { id: 'migrate-verdict', class: 'small' });
  const encryptedField = h('td', { id: 'migrate-encrypted' });
  const status = h('p', { class: 'action-msg', role: 'status' });
  const submit = h('button', { type: 'submit', id: 'migrate-submit' }, 'Migrate');
  const value = (/** @type {HTMLElement} */ el) => /** @type {HTMLSelectElement} */ (el).value;

  const update = () => {
    const to = value(host) || vm.hostId;
    const keep = value(datastore);
    // the source host copies the files there first, and the destination runs the VM from it
    const offered = datastores.filter((d) => d.id !== vm.datastoreId && d.hosts.some((m) => m.hostId === to) && d.hosts.some((m) => m.hostId === vm.hostId));
    const keepOk = datastores.find((d) => d.id === vm.datastoreId)?.hosts.some((m) => m.hostId === to) ?? false;
    replace(datastore,
      h('option', { value: '', disabled: !keepOk }, `keep ${ds}${keepOk ? '' : ' (not mounted there)'}`),
      ...offered.map((d) => h('option', { value: d.id }, d.name)));
    /** @type {HTMLSelectElement} */ (datastore).value = offered.some((d) => d.id === keep) ? keep : keepOk ? '' : offered[0]?.id ?? '';
    const move = { hostChange: value(host) !== '', dsChange: value(datastore) !== '' };
    const v = moveEncryption(vm, setting, move, { source: hosts.find((x) => x.id === vm.hostId), destination: hosts.find((x) => x.id === to) });
    replace(encryptedField, badge(v.encrypted, v.kind));
    replace(verdict, v.text);
    /** @type {HTMLButtonElement} */ (submit).disabled = (!move.hostChange && !move.dsChange) || (move.hostChange && !keepOk && !move.dsChange);
  };
  host.addEventListener('change', update);
  datastore.addEventListener('change', update);

  const form = h('form', {
    class: 'inline-form', id: 'migrate-form',
    onsubmit: async (/** @type {Event} */ e) => {
      e.preventDefault();
      const body = { ...(value(host) === '' ? {} : { host: value(host) }), ...(value(datastore) === '' ? {} : { datastore: value(datastore) }) };
      /** @type {HTMLButtonElement} */ (submit).disabled = true;
      try {
        const t = await api('POST', `/api/vms/${path}/migrate`, body);
        on.started(t.id);
      } catch (err) {
        replace(status, h('span', { class: 'error' }, `Migrate refused: ${/** @type {Error} */ (err).message}`));
        update();
      }
    },
  },
  h('label', null, 'Host', host), h('label', null, 'Datastore', datastore), submit,
  h('button', { type: 'button', class: 'secondary', id: 'migrate-cancel', onclick: () => on.close() }, 'Close'));
  update();
  return h('section', { class: 'card migrate', id: 'migrate-card' },
    h('h2', null, `Migrate ${vm.name}`),
    h('table', { class: 'facts' },
      h('tr', null, h('th', null, 'Now on'), h('td', null, `host ${here}, datastore ${ds}`)),
      h('tr', null, h('th', null, 'migrateEncryption'), h('td', { id: 'migrate-setting' }, setting)),
      h('tr', null, h('th', null, 'This move'), encryptedField)),
    verdict, form, status);
}
