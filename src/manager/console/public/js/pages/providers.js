// @ts-check
import { get, post } from '../api.js';
import { badge, h, replace, when } from '../dom.js';
import { hasOnRoot } from '../session.js';

const COLOR = /** @type {Record<string, string>} */ ({ green: 'ok', yellow: 'warn', red: 'bad' });

/** @param {number | undefined} days */
function expiry(days) {
  if (days === undefined) return badge('unknown', 'muted');
  return badge(`${days} days`, days < 0 ? 'bad' : days < 30 ? 'warn' : 'ok', { 'data-field': 'cert-days' });
}

/**
 * Key providers (KMS clusters): default flag, health colour, and per key server its status,
 * latency, KMIP versions and certificate expiry; trusted certificates and the client identity.
 * @param {HTMLElement} main @param {string} _param @param {import('../main.js').PageContext} ctx
 */
export async function renderProviders(main, _param, ctx) {
  const list = h('div', { id: 'providers' });
  replace(main, h('h1', null, 'Key providers'), list);
  if (!hasOnRoot('Cryptographer.ReadKeyServersInfo')) {
    replace(list, h('p', { class: 'muted reason' }, 'You lack Cryptographer.ReadKeyServersInfo: key providers are hidden from your role.'));
    return;
  }
  const refresh = async () => {
    const r = await get('/api/key-providers');
    if (r.providers.length === 0) {
      replace(list, h('p', { class: 'muted' }, 'No key provider yet: add one (vmcrypt kms add, or POST /api/key-providers) before encrypting.'));
      return;
    }
    replace(list, ...r.providers.map((/** @type {any} */ p) => providerCard(p, refresh)));
  };
  await refresh();
  ctx.every(5000, refresh);
}

/** @param {any} p @param {() => Promise<void>} refresh */
function providerCard(p, refresh) {
  const health = p.health;
  const byName = new Map((health?.servers ?? []).map((/** @type {any} */ s) => [s.name, s]));
  const check = h('button', {
    'data-action': 'check-health',
    onclick: async () => {
      check.setAttribute('disabled', '');
      await post(`/api/key-providers/${encodeURIComponent(p.id)}/health`).catch(() => {});
      await refresh();
    },
  }, 'Check now');
  return h('section', { class: 'card provider', 'data-provider-id': p.id },
    h('div', { class: 'row' },
      h('h2', null, p.id), p.isDefault ? badge('default', 'info') : null,
      health === undefined ? badge('not checked', 'muted') : badge(`health ${health.color}`, COLOR[health.color] ?? 'muted', { 'data-field': 'health' }),
      h('span', { class: 'muted small' }, health?.checkedAt === undefined ? '' : `checked ${when(health.checkedAt)}`), check),
    h('table', { class: 'grid' },
      h('thead', null, h('tr', null, ...['Key server', 'Address', 'Status', 'Latency', 'KMIP', 'Certificate', 'Expires in'].map((t) => h('th', null, t)))),
      h('tbody', null, ...p.servers.map((/** @type {any} */ srv) => {
        const st = /** @type {any} */ (byName.get(srv.name));
        return h('tr', { 'data-server': srv.name },
          h('td', null, srv.name), h('td', null, `${srv.host}:${srv.port}`),
          h('td', null, st === undefined ? badge('unknown', 'muted') : badge(st.status, st.status === 'ok' ? 'ok' : 'bad', { title: st.error?.message ?? '' })),
          h('td', { 'data-field': 'latency' }, st?.latencyMs === undefined ? '—' : `${Number(st.latencyMs).toFixed(1)} ms`),
          h('td', null, (st?.versions ?? []).join(', ')),
          h('td', null, st?.certificate?.subjectCn ?? '—'),
          h('td', null, st?.certificate === undefined ? '—' : expiry(st.certificate.daysLeft)));
      }))),
    h('h3', null, 'Trust'),
    h('ul', { class: 'plain' },
      ...p.trust.trustedServerCerts.map((/** @type {any} */ c) => h('li', null, 'Trusted KMS certificate ', h('b', null, c.subjectCn ?? '?'), ` (issuer ${c.issuerCn ?? '?'}) `, expiry(c.daysLeft))),
      h('li', null, 'Client identity: ', p.trust.clientIdentity === null ? h('span', { class: 'muted' }, 'none') : h('span', null, h('b', null, p.trust.clientIdentity.subjectCn ?? '?'), ` (${p.trust.clientIdentity.source}) `, expiry(p.trust.clientIdentity.daysLeft)))));
}
