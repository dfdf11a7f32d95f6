// @ts-check
import { badge, h, replace } from './dom.js';
import { followSse } from './sse.js';

/** @typedef {{ id: string, kind: string, state: string, percent: number, rate?: number, message?: string, entity?: { kind: string, id: string }, user?: string, startedAt: string, endedAt?: string, error?: { code: string, message: string }, result?: any }} Task */

const STATE_BADGE = /** @type {Record<string, string>} */ ({ success: 'ok', error: 'bad', running: 'info', queued: 'muted' });

/** @param {number} bytesPerSecond */
function rate(bytesPerSecond) {
  const mb = bytesPerSecond / 1e6;
  return mb >= 1 ? `${mb.toFixed(1)} MB/s` : `${(bytesPerSecond / 1e3).toFixed(0)} kB/s`;
}

/**
 * What a finished task says beyond "done": how a migration went (mode, channel, downtime).
 * @param {Task} t
 */
function outcome(t) {
  const r = t.result;
  if (t.kind !== 'vm.migrate' || typeof r !== 'object' || r === null) return 'done';
  const how = typeof r.channel === 'string' ? `, ${r.encrypted === true ? 'encrypted' : 'NOT encrypted'} over ${r.channel}` : '';
  const downtime = r.mode === 'live' && typeof r.downtimeMs === 'number' ? `, downtime ${r.downtimeMs} ms` : '';
  const mode = /** @type {Record<string, string>} */ ({ live: 'live', cold: 'powered off: re-registered', storage: 'storage migration' })[r.mode] ?? String(r.mode);
  return `done · ${mode}${how}${downtime}`;
}

/**
 * One task as a live progress bar. A task still running is followed over its server-sent
 * events until it ends (or `signal` aborts it, when the page changes).
 * @param {Task} task
 * @param {AbortSignal} signal
 * @param {(t: Task) => void} [onEnd]
 */
export function taskProgress(task, signal, onEnd) {
  const fill = h('div', { class: 'fill' });
  const bar = h('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100 }, fill);
  const pct = h('span', { class: 'pct' });
  const state = h('span', { class: 'state' });
  const msg = h('span', { class: 'msg' });
  const el = h('div', { class: 'task', 'data-task-id': task.id },
    h('span', { class: 'task-kind' }, task.kind),
    h('span', { class: 'task-entity muted' }, task.entity === undefined ? '' : `${task.entity.kind} ${task.entity.id}`),
    bar, pct, state, msg);

  /** @param {Task} t */
  const render = (t) => {
    const percent = t.state === 'success' ? 100 : Math.max(0, Math.min(100, Math.floor(t.percent ?? 0)));
    // CSSOM, not a style attribute: the CSP forbids inline styles
    fill.style.width = `${percent}%`;
    bar.setAttribute('aria-valuenow', String(percent));
    el.dataset['state'] = t.state;
    el.dataset['percent'] = String(percent);
    replace(pct, `${percent} %`);
    replace(state, badge(t.state, STATE_BADGE[t.state] ?? 'muted'));
    const detail = t.error !== undefined ? `${t.error.code}: ${t.error.message}` : t.state === 'success' ? outcome(t) : [t.message, t.rate === undefined ? '' : rate(t.rate)].filter(Boolean).join(' · ');
    replace(msg, detail);
  };
  render(task);

  if (task.state === 'running' || task.state === 'queued') {
    followSse(`/api/tasks/${encodeURIComponent(task.id)}/events`, (event, t) => {
      if (event !== 'task') return;
      render(t);
      if (t.state === 'success' || t.state === 'error') onEnd?.(t);
    }, signal).catch((err) => replace(msg, `live progress lost: ${err.message}`));
  }
  return el;
}
