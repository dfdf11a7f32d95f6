// @ts-check
import { get, post } from '../api.js';
import { h, replace } from '../dom.js';
import { hasOnRoot } from '../session.js';
import { taskProgress } from '../task-progress.js';

/**
 * "New virtual machine": host, datastore, storage policy and one disk. Creating with the VM
 * Encryption Policy is the EncryptNew path; the task's progress shows under the form.
 * @param {Array<{ id: string, name: string }>} hosts
 * @param {import('../main.js').PageContext} ctx
 */
export async function newVmForm(hosts, ctx) {
  const [policies, datastores] = await Promise.all([get('/api/policies'), get('/api/datastores')]);
  const name = h('input', { id: 'new-vm-name', required: true, maxlength: 64, pattern: '[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}', placeholder: 'web-01' });
  const host = h('select', { id: 'new-vm-host' }, ...hosts.map((x) => h('option', { value: x.id }, x.name)));
  const ds = h('select', { id: 'new-vm-datastore' });
  const fillDatastores = () => {
    const hostId = /** @type {HTMLSelectElement} */ (host).value;
    const fits = datastores.datastores.filter((/** @type {any} */ d) => d.hosts.some((/** @type {any} */ m) => m.hostId === hostId));
    replace(ds, ...fits.map((/** @type {any} */ d) => h('option', { value: d.id }, d.name)));
  };
  host.addEventListener('change', fillDatastores);
  fillDatastores();
  const policy = h('select', { id: 'new-vm-policy' }, ...policies.policies.map((/** @type {any} */ p) => h('option', { value: p.id }, p.name)));
  const sizeMiB = h('input', { id: 'new-vm-disk', type: 'number', min: 1, max: 1048576, value: 16 });
  const status = h('div', { class: 'tasks' });
  const canCreate = hasOnRoot('VirtualMachine.Inventory.Create');
  const submit = h('button', { type: 'submit', id: 'new-vm-submit', disabled: !canCreate, title: canCreate ? '' : 'You lack VirtualMachine.Inventory.Create' }, 'Create');
  const form = h('form', {
    class: 'inline-form', id: 'new-vm-form',
    onsubmit: async (/** @type {Event} */ e) => {
      e.preventDefault();
      const chosen = policies.policies.find((/** @type {any} */ p) => p.id === /** @type {HTMLSelectElement} */ (policy).value);
      if (chosen?.encryption === true && !hasOnRoot('Cryptographer.EncryptNew')) {
        replace(status, h('p', { class: 'error' }, 'You lack Cryptographer.EncryptNew: choose a policy without encryption.'));
        return;
      }
      try {
        const r = await post('/api/vms', {
          name: /** @type {HTMLInputElement} */ (name).value,
          hostId: /** @type {HTMLSelectElement} */ (host).value,
          datastoreId: /** @type {HTMLSelectElement} */ (ds).value,
          policyId: /** @type {HTMLSelectElement} */ (policy).value,
          disks: [{ sizeBytes: Math.max(1, Number(/** @type {HTMLInputElement} */ (sizeMiB).value)) * 1048576 }],
        });
        const task = await get(`/api/tasks/${encodeURIComponent(r.task.id)}`);
        status.prepend(taskProgress(task, ctx.signal));
      } catch (err) {
        replace(status, h('p', { class: 'error' }, /** @type {Error} */ (err).message));
      }
    },
  },
  h('label', null, 'Name', name), h('label', null, 'Host', host), h('label', null, 'Datastore', ds),
  h('label', null, 'Storage policy', policy), h('label', null, 'Disk (MiB)', sizeMiB), submit);
  return h('details', { class: 'new-vm' }, h('summary', null, 'New virtual machine'), form, status);
}
