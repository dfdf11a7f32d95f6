import type { CommandGroup } from '../command.js';
import { seg } from '../manager-client/client.js';
import type { AlarmInfo, EventInfo, TaskInfo } from '../manager-client/records.js';
import { formatTable } from '../output/table.js';
import type { Verb } from '../verbs/verb.js';
import { verbGroup } from '../verbs/verb-group.js';
import { groupSummary } from './summaries.js';

const eventsVerb: Verb = {
  words: [],
  summary: 'Recent events (newest last): key provider health, VM lock/unlock, encryption, refusals…',
  usage: '[--limit N] [--type TYPE] [--severity info|warning|error|critical]',
  options: { limit: { type: 'string' }, type: { type: 'string' }, severity: { type: 'string' } },
  examples: ['vmcrypt events', 'vmcrypt events --severity warning --limit 20', 'vmcrypt events --type vm.unlocked --json'],
  async run(ctx) {
    const limit = ctx.int('limit', 1, 1000) ?? 50;
    const severity = ctx.str('severity');
    if (severity !== undefined && !['info', 'warning', 'error', 'critical'].includes(severity)) throw ctx.usageError('--severity is info, warning, error or critical');
    const c = await ctx.client();
    const evs = await c.get<EventInfo[]>('/api/events', { limit, type: ctx.str('type'), severity });
    ctx.emit(evs, () => formatTable(evs, [
      { title: 'id', cell: (e) => e.id },
      { title: 'time', cell: (e) => e.time },
      { title: 'severity', cell: (e) => e.severity },
      { title: 'type', cell: (e) => e.type },
      { title: 'message', cell: (e) => e.message },
    ]));
    return 0;
  },
};

const alarmsList: Verb = {
  words: ['list'],
  summary: 'Triggered alarms (--all: cleared ones too)',
  usage: '[--all]',
  options: { all: { type: 'boolean' } },
  examples: ['vmcrypt alarms list', 'vmcrypt alarms list --all --json'],
  async run(ctx) {
    const c = await ctx.client();
    const as = await c.get<AlarmInfo[]>('/api/alarms', ctx.bool('all') ? { all: true } : undefined);
    ctx.emit(as, () => formatTable(as, [
      { title: 'id', cell: (a) => a.id },
      { title: 'status', cell: (a) => a.status },
      { title: 'name', cell: (a) => a.name },
      { title: 'entity', cell: (a) => `${a.entity.kind} ${a.entity.id}` },
      { title: 'acked', cell: (a) => a.acknowledged?.by },
      { title: 'message', cell: (a) => a.message },
    ]));
    return 0;
  },
};

const alarmsAck: Verb = {
  words: ['ack'],
  summary: 'Acknowledge a triggered alarm (records who and when)',
  usage: 'ID',
  examples: ['vmcrypt alarms ack 3'],
  async run(ctx) {
    const id = ctx.arg(0, 'ID');
    if (!/^\d{1,15}$/.test(id)) throw ctx.usageError('ID is the alarm number vmcrypt alarms list shows');
    const c = await ctx.client();
    const a = await c.post<AlarmInfo>(`/api/alarms/${seg(id)}/ack`);
    ctx.emit(a, () => [`alarm ${a.id} (${a.name}) acknowledged by ${a.acknowledged?.by ?? '?'}`]);
    return 0;
  },
};

const tasksList: Verb = {
  words: ['list'],
  summary: 'Recent tasks, newest first, with progress',
  usage: '[--state queued|running|success|error] [--limit N]',
  options: { state: { type: 'string' }, limit: { type: 'string' } },
  examples: ['vmcrypt tasks list', 'vmcrypt tasks list --state running --json'],
  async run(ctx) {
    const state = ctx.str('state');
    if (state !== undefined && !['queued', 'running', 'success', 'error'].includes(state)) throw ctx.usageError('--state is queued, running, success or error');
    const c = await ctx.client();
    const ts = await c.get<TaskInfo[]>('/api/tasks', { state, limit: ctx.int('limit', 1, 1000) ?? 30 });
    ctx.emit(ts, () => formatTable(ts, [
      { title: 'id', cell: (t) => t.id },
      { title: 'kind', cell: (t) => t.kind },
      { title: 'state', cell: (t) => t.state },
      { title: 'percent', cell: (t) => `${Math.round(t.percent)}%` },
      { title: 'entity', cell: (t) => (t.entity === undefined ? undefined : `${t.entity.kind} ${t.entity.id}`) },
      { title: 'user', cell: (t) => t.user },
      { title: 'started', cell: (t) => t.startedAt },
      { title: 'error', cell: (t) => t.error?.message },
    ]));
    return 0;
  },
};

const tasksWatch: Verb = {
  words: ['watch'],
  summary: 'Follow a task to its end with a progress bar (percent, rate, ETA) on a terminal',
  usage: 'ID',
  examples: ['vmcrypt tasks watch 5d0c…', 'vmcrypt tasks watch 5d0c… --json'],
  async run(ctx) {
    const id = ctx.arg(0, 'ID');
    const c = await ctx.client();
    const t = await c.get<TaskInfo>(`/api/tasks/${seg(id)}`);
    const done = t.state === 'success' || t.state === 'error' ? t : await ctx.follow({ id: t.id, state: t.state }, t.kind);
    const final = done ?? t;
    if (final.state === 'error') {
      ctx.emit(final, () => [`task ${final.id} (${final.kind}) failed: ${final.error?.message ?? '?'} (${final.error?.code ?? '?'})`]);
      return 1;
    }
    ctx.emit(final, () => [`task ${final.id} (${final.kind}): ${final.state}`]);
    return 0;
  },
};

export const eventsCommands: CommandGroup = verbGroup({ name: 'events', summary: groupSummary('events'), verbs: [eventsVerb] });
export const alarmsCommands: CommandGroup = verbGroup({ name: 'alarms', summary: groupSummary('alarms'), verbs: [alarmsList, alarmsAck], defaultVerb: alarmsList });
export const tasksCommands: CommandGroup = verbGroup({ name: 'tasks', summary: groupSummary('tasks'), verbs: [tasksList, tasksWatch], defaultVerb: tasksList });
