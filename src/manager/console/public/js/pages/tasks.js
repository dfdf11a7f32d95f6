// @ts-check
import { get } from '../api.js';
import { h, replace, when } from '../dom.js';
import { taskProgress } from '../task-progress.js';

/**
 * Recent tasks, newest first; running ones follow their server-sent events, new ones appear
 * at the next refresh.
 * @param {HTMLElement} main @param {string} _param @param {import('../main.js').PageContext} ctx
 */
export async function renderTasks(main, _param, ctx) {
  const list = h('div', { class: 'tasks', id: 'task-list' });
  replace(main, h('h1', null, 'Tasks'), h('section', { class: 'card' }, list));
  const shown = new Map();
  const refresh = async () => {
    const tasks = await get('/api/tasks?limit=50');
    for (const t of [...tasks].reverse()) {
      const known = shown.get(t.id);
      // a task that ended while nobody followed it is redrawn once with its final state
      if (known !== undefined && (known.state === t.state || t.state === 'running' || t.state === 'queued')) continue;
      const el = h('div', { class: 'task-line' }, taskProgress(t, ctx.signal), h('span', { class: 'muted small' }, `${t.user ?? ''} · ${when(t.startedAt)}`));
      const old = known?.el;
      if (old !== undefined) old.replaceWith(el);
      else list.prepend(el);
      shown.set(t.id, { state: t.state, el });
    }
    if (tasks.length === 0) replace(list, h('p', { class: 'muted' }, 'No tasks yet.'));
  };
  await refresh();
  ctx.every(2000, refresh);
}
