// @ts-check
import { get, post, query } from '../api.js';
import { badge, h, replace, when } from '../dom.js';
import { hasOnRoot } from '../session.js';
import { followSse } from '../sse.js';

const SEVERITY = /** @type {Record<string, string>} */ ({ info: 'info', warning: 'warn', error: 'bad', critical: 'bad' });
const STATUS = /** @type {Record<string, string>} */ ({ green: 'ok', yellow: 'warn', red: 'bad' });
const MAX_EVENTS_SHOWN = 300;

/**
 * Triggered alarms with Acknowledge, and the event log, live over /api/events/stream.
 * @param {HTMLElement} main @param {string} _param @param {import('../main.js').PageContext} ctx
 */
export async function renderEvents(main, _param, ctx) {
  const alarms = h('tbody', { id: 'alarm-rows' });
  const events = h('tbody', { id: 'event-rows' });
  replace(main, h('h1', null, 'Events and alarms'),
    h('section', { class: 'card' }, h('h2', null, 'Alarms'),
      h('table', { class: 'grid', id: 'alarms' }, h('thead', null, h('tr', null, ...['Status', 'Alarm', 'Object', 'Message', 'Triggered', 'Acknowledged', ''].map((t) => h('th', null, t)))), alarms)),
    h('section', { class: 'card' }, h('h2', null, 'Events ', h('span', { class: 'muted small', id: 'live' }, '(live)')),
      h('table', { class: 'grid', id: 'events' }, h('thead', null, h('tr', null, ...['Time', 'Severity', 'Type', 'Object', 'User', 'Message'].map((t) => h('th', null, t)))), events)));

  const canAck = hasOnRoot('Alarm.Acknowledge');
  const refreshAlarms = async () => {
    const list = await get('/api/alarms');
    replace(alarms, ...list.map((/** @type {any} */ a) => h('tr', { 'data-alarm-id': a.id },
      h('td', null, badge(a.status, STATUS[a.status] ?? 'muted')), h('td', null, a.name), h('td', null, `${a.entity.kind} ${a.entity.id}`),
      h('td', null, a.message), h('td', null, when(a.triggeredAt)),
      h('td', null, a.acknowledged === undefined ? '—' : `${a.acknowledged.by}, ${when(a.acknowledged.at)}`),
      h('td', null, a.acknowledged !== undefined ? null : h('button', {
        'data-action': 'ack', disabled: !canAck, title: canAck ? '' : 'You lack Alarm.Acknowledge',
        onclick: async () => {
          await post(`/api/alarms/${a.id}/ack`).catch(() => {});
          await refreshAlarms();
        },
      }, 'Acknowledge')))));
    if (list.length === 0) replace(alarms, h('tr', null, h('td', { colspan: 7, class: 'muted' }, 'No triggered alarm.')));
  };

  const row = (/** @type {any} */ e) => h('tr', { 'data-event-id': e.id, 'data-type': e.type },
    h('td', null, when(e.time)), h('td', null, badge(e.severity, SEVERITY[e.severity] ?? 'muted')), h('td', null, h('code', null, e.type)),
    h('td', null, e.entity === undefined ? '' : `${e.entity.kind} ${e.entity.id}`), h('td', null, e.user ?? ''), h('td', null, e.message));
  const add = (/** @type {any} */ e) => {
    events.prepend(row(e));
    while (events.children.length > MAX_EVENTS_SHOWN) events.lastElementChild?.remove();
  };

  const recent = await get(`/api/events${query({ limit: 100 })}`);
  for (const e of recent) add(e);
  let lastId = recent.at(-1)?.id ?? 0;
  await refreshAlarms();
  ctx.every(3000, refreshAlarms);
  // the stream replays what came after lastId, so nothing between the list and the stream is lost
  const follow = () => followSse(`/api/events/stream${query({ afterId: lastId })}`, (event, e) => {
    if (event !== 'event' || e.id <= lastId) return;
    lastId = e.id;
    add(e);
  }, ctx.signal);
  void follow().catch(() => replace(/** @type {HTMLElement} */ (main.querySelector('#live')), '(stream lost: reload the page)'));
}
