// @ts-check
import { logout, sessionToken, setUnauthenticatedHandler } from './api.js';
import { h, replace } from './dom.js';
import { currentMe, forget, loadMe } from './session.js';
import { renderLogin } from './pages/login.js';
import { renderInventory } from './pages/inventory.js';
import { renderVm } from './pages/vm.js';
import { renderProviders } from './pages/providers.js';
import { renderTasks } from './pages/tasks.js';
import { renderEvents } from './pages/events.js';
import { renderUsers } from './pages/users.js';

/**
 * @typedef {{ signal: AbortSignal, every: (ms: number, fn: () => Promise<void> | void) => void, go: (hash: string) => void }} PageContext
 * @typedef {(main: HTMLElement, param: string, ctx: PageContext) => Promise<void> | void} Page
 */

/** @type {Record<string, { title: string, page: Page, nav?: string }>} */
const PAGES = {
  inventory: { title: 'Inventory', page: renderInventory, nav: 'Inventory' },
  vm: { title: 'Virtual machine', page: renderVm },
  providers: { title: 'Key providers', page: renderProviders, nav: 'Key providers' },
  tasks: { title: 'Tasks', page: renderTasks, nav: 'Tasks' },
  events: { title: 'Events and alarms', page: renderEvents, nav: 'Events & alarms' },
  users: { title: 'Users and roles', page: renderUsers, nav: 'Users & roles' },
};

const app = /** @type {HTMLElement} */ (document.getElementById('app'));
/** @type {AbortController | null} */
let current = null;

const go = (/** @type {string} */ hash) => {
  if (location.hash === hash) void route();
  else location.hash = hash;
};

setUnauthenticatedHandler(() => {
  forget();
  go('#/login');
});

async function route() {
  current?.abort();
  const controller = new AbortController();
  current = controller;
  const [name = '', param = ''] = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (name === 'login' || sessionToken() === null) {
    renderLogin(app, () => go('#/inventory'));
    return;
  }
  try {
    if (currentMe() === null) await loadMe();
  } catch {
    return; // 401 already sent us to the login page
  }
  const entry = PAGES[name] ?? PAGES['inventory'];
  if (entry === undefined) return;
  const main = h('main', { id: 'page' });
  replace(app, header(name in PAGES ? name : 'inventory'), main);
  document.title = `${entry.title} · vmcrypt`;
  /** @type {PageContext} */
  const ctx = {
    signal: controller.signal,
    go,
    every(ms, fn) {
      // polling pauses itself with the page: aborted pages stop their timers
      const timer = setInterval(() => {
        if (!controller.signal.aborted) void Promise.resolve(fn()).catch(() => {});
      }, ms);
      controller.signal.addEventListener('abort', () => clearInterval(timer));
    },
  };
  try {
    await entry.page(main, param, ctx);
  } catch (err) {
    if (!controller.signal.aborted) replace(main, h('p', { class: 'error' }, `Could not load this page: ${/** @type {Error} */ (err).message}`));
  }
}

/** @param {string} active */
function header(active) {
  const me = currentMe();
  const links = Object.entries(PAGES).filter(([, p]) => p.nav !== undefined).map(([name, p]) =>
    h('a', { href: `#/${name}`, class: name === active || (active === 'vm' && name === 'inventory') ? 'active' : '' }, p.nav ?? ''));
  return h('header', { class: 'top' },
    h('span', { class: 'brand' }, h('img', { src: '/console/favicon.svg', alt: '', width: 20, height: 20 }), 'vmcrypt'),
    h('nav', null, links),
    h('span', { class: 'who', id: 'who' }, me?.user ?? '', me?.role === undefined ? '' : h('span', { class: 'muted' }, ` · ${me.role}`)),
    h('button', {
      class: 'link', id: 'logout',
      onclick: async () => {
        await logout().catch(() => {});
        forget();
        go('#/login');
      },
    }, 'Log out'));
}

window.addEventListener('hashchange', () => void route());
void route();
