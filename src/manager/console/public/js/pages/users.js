// @ts-check
import { get } from '../api.js';
import { badge, h, replace, when } from '../dom.js';
import { hasOnRoot } from '../session.js';

/**
 * Users, roles (crypto privileges marked, since they are the ones to give sparingly) and the
 * permissions set on the inventory root.
 * @param {HTMLElement} main
 */
export async function renderUsers(main) {
  if (!hasOnRoot('System.Read')) {
    replace(main, h('h1', null, 'Users and roles'), h('p', { class: 'reason' }, 'You lack System.Read on the root.'));
    return;
  }
  const [users, roles, permissions] = await Promise.all([get('/api/users'), get('/api/roles'), get('/api/permissions')]);
  const roleOf = new Map(permissions.map((/** @type {any} */ p) => [p.principal, p.role]));
  replace(main, h('h1', null, 'Users and roles'),
    h('div', { class: 'split' },
      h('section', { class: 'card' }, h('h2', null, 'Users'),
        h('table', { class: 'grid', id: 'users' },
          h('thead', null, h('tr', null, h('th', null, 'User'), h('th', null, 'Role on the root'), h('th', null, 'Created'))),
          h('tbody', null, ...users.map((/** @type {any} */ u) => h('tr', { 'data-user': u.name }, h('td', null, u.name), h('td', null, roleOf.get(u.name) ?? h('span', { class: 'muted' }, 'none')), h('td', null, when(u.createdAt))))))),
      h('section', { class: 'card grow' }, h('h2', null, 'Roles'),
        h('table', { class: 'grid', id: 'roles' },
          h('thead', null, h('tr', null, h('th', null, 'Role'), h('th', null, 'Privileges'))),
          h('tbody', null, ...roles.map((/** @type {any} */ r) => h('tr', { 'data-role': r.name },
            h('td', null, r.name, r.builtin ? h('span', { class: 'muted small' }, ' built-in') : null),
            h('td', { class: 'privileges' }, r.privileges.length === 0 ? h('span', { class: 'muted' }, 'none') : summary(r.privileges)))))))),
    h('section', { class: 'card' }, h('h2', null, 'Permissions on the root'),
      h('table', { class: 'grid' }, h('thead', null, h('tr', null, h('th', null, 'User'), h('th', null, 'Role'), h('th', null, 'Propagate'))),
        h('tbody', null, ...permissions.map((/** @type {any} */ p) => h('tr', null, h('td', null, p.principal), h('td', null, p.role), h('td', null, p.propagate ? 'yes' : 'no')))))));
}

/** @param {string[]} privileges */
function summary(privileges) {
  const crypto = privileges.filter((p) => p.startsWith('Cryptographer.'));
  return h('span', null,
    badge(`${privileges.length} privileges`, 'muted'), ' ',
    crypto.length === 0 ? badge('no Cryptographer.*', 'warn') : badge(`${crypto.length} Cryptographer.*`, 'info', { title: crypto.join('\n') }));
}
