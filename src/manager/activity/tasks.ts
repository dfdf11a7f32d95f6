import { randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { EntityKind, EntityRef, ProgressUpdate, TaskInfo, TaskProgress, TaskStarter, TaskState } from '../contracts.js';
import { VmcryptError } from '../../errors.js';
import { ManagerError } from '../errors.js';
import { Listeners } from './listeners.js';

export const MAX_TASK_LIST = 1000;
const MAX_ERROR_MESSAGE = 1024;
const MAX_RESULT_JSON = 64 * 1024;

export interface TaskFilter {
  readonly state?: TaskState;
  readonly kind?: string;
  readonly entity?: EntityRef;
  readonly limit?: number;
}

interface TaskRow {
  id: string;
  kind: string;
  entity_kind: string | null;
  entity_id: string | null;
  user: string | null;
  state: TaskState;
  percent: number;
  bytes_done: number | null;
  bytes_total: number | null;
  message: string | null;
  started_at: string;
  ended_at: string | null;
  result: string | null;
  error_code: string | null;
  error_message: string | null;
}

interface Live {
  info: TaskInfo;
  startedMs: number;
  /** Last whole percent written to the database: progress is persisted per point, not per chunk. */
  persistedPercent: number;
  done: Promise<TaskInfo>;
}

/**
 * Long operations as tasks (vCenter's Recent Tasks): state and progress persisted, followed by
 * polling or subscription. A task still running when the manager stops is marked as failed at
 * the next start: its process is gone, and the operation's own reconcile step is what resumes it.
 */
export class TaskManager implements TaskStarter {
  readonly #db: Database;
  readonly #now: () => Date;
  readonly #live = new Map<string, Live>();
  readonly #listeners = new Listeners<TaskInfo>();
  readonly #onEnd: ((info: TaskInfo) => void) | undefined;

  constructor(db: Database, now: () => Date, opts: { onEnd?: (info: TaskInfo) => void } = {}) {
    this.#db = db;
    this.#now = now;
    this.#onEnd = opts.onEnd;
    this.#db
      .prepare(
        "UPDATE tasks SET state = 'error', ended_at = ?, error_code = 'MANAGER_INTERNAL', error_message = 'manager restarted' WHERE state IN ('queued', 'running')",
      )
      .run(now().toISOString());
  }

  start<T>(spec: { kind: string; entity?: EntityRef; user?: string }, run: (progress: TaskProgress) => Promise<T>): TaskInfo {
    const nowDate = this.#now();
    const info: TaskInfo = {
      id: randomUUID(),
      kind: spec.kind,
      ...(spec.entity !== undefined ? { entity: spec.entity } : {}),
      ...(spec.user !== undefined ? { user: spec.user } : {}),
      state: 'running',
      percent: 0,
      startedAt: nowDate.toISOString(),
    };
    this.#db
      .prepare('INSERT INTO tasks (id, kind, entity_kind, entity_id, user, state, percent, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(info.id, info.kind, spec.entity?.kind ?? null, spec.entity?.id ?? null, spec.user ?? null, info.state, 0, info.startedAt);
    const live: Live = { info, startedMs: nowDate.getTime(), persistedPercent: 0, done: Promise.resolve(info) };
    this.#live.set(info.id, live);
    const progress: TaskProgress = { update: (p) => this.#progress(live, p) };
    live.done = (async () => {
      try {
        // a task never runs inside its starter's call stack (the caller gets `running` first)
        await Promise.resolve();
        const result = await run(progress);
        return this.#end(live, { state: 'success', result });
      } catch (err) {
        return this.#end(live, { state: 'error', error: taskError(err) });
      }
    })();
    this.#listeners.emit(info);
    return info;
  }

  async wait(id: string): Promise<TaskInfo> {
    const live = this.#live.get(id);
    if (live !== undefined) return live.done;
    const info = this.get(id);
    if (info === undefined) throw new ManagerError('MANAGER_NOT_FOUND', `task ${id} not found`);
    return info;
  }

  get(id: string): TaskInfo | undefined {
    const live = this.#live.get(id);
    if (live !== undefined) return live.info;
    const row = this.#db.prepare('SELECT * FROM tasks WHERE id = ?').get(id) as TaskRow | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  /** Newest first. */
  list(filter: TaskFilter = {}): TaskInfo[] {
    const where: string[] = [];
    const args: string[] = [];
    if (filter.state !== undefined) {
      where.push('state = ?');
      args.push(filter.state);
    }
    if (filter.kind !== undefined) {
      where.push('kind = ?');
      args.push(filter.kind);
    }
    if (filter.entity !== undefined) {
      where.push('entity_kind = ? AND entity_id = ?');
      args.push(filter.entity.kind, filter.entity.id);
    }
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), MAX_TASK_LIST);
    const rows = this.#db
      .prepare(`SELECT * FROM tasks ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, rowid DESC LIMIT ?`)
      .all(...args, limit) as TaskRow[];
    return rows.map((r) => this.#live.get(r.id)?.info ?? fromRow(r));
  }

  /** Every change of every task (start, progress, end). */
  subscribe(fn: (info: TaskInfo) => void): () => void {
    return this.#listeners.add(fn);
  }

  counts(): Array<{ kind: string; state: TaskState; count: number }> {
    return this.#db.prepare('SELECT kind, state, count(*) AS count FROM tasks GROUP BY kind, state').all() as Array<{
      kind: string;
      state: TaskState;
      count: number;
    }>;
  }

  #progress(live: Live, p: ProgressUpdate): void {
    if (live.info.state !== 'running') return;
    const elapsedS = (this.#now().getTime() - live.startedMs) / 1000;
    const bytesDone = p.bytesDone ?? live.info.bytesDone;
    const bytesTotal = p.bytesTotal ?? live.info.bytesTotal;
    let percent = p.percent ?? live.info.percent;
    if (p.percent === undefined && bytesDone !== undefined && bytesTotal !== undefined && bytesTotal > 0) percent = (100 * bytesDone) / bytesTotal;
    percent = Math.min(100, Math.max(0, Number.isFinite(percent) ? percent : 0));
    const message = p.message ?? live.info.message;
    live.info = {
      ...live.info,
      percent,
      ...(bytesDone !== undefined ? { bytesDone } : {}),
      ...(bytesTotal !== undefined ? { bytesTotal } : {}),
      ...(bytesDone !== undefined && elapsedS > 0 ? { rate: Math.round(bytesDone / elapsedS) } : {}),
      ...(message !== undefined ? { message } : {}),
    };
    if (Math.floor(percent) !== live.persistedPercent || p.message !== undefined) {
      live.persistedPercent = Math.floor(percent);
      this.#persist(live.info);
    }
    this.#listeners.emit(live.info);
  }

  #end(live: Live, end: { state: 'success'; result: unknown } | { state: 'error'; error: { code: string; message: string } }): TaskInfo {
    const endedAt = this.#now().toISOString();
    let info: TaskInfo = { ...live.info, state: end.state, endedAt };
    if (end.state === 'success') {
      info = { ...info, percent: 100, ...(end.result !== undefined ? { result: boundedResult(end.result) } : {}) };
    } else {
      info = { ...info, error: end.error };
    }
    live.info = info;
    this.#persist(info);
    this.#live.delete(info.id);
    this.#listeners.emit(info);
    this.#onEnd?.(info);
    return info;
  }

  #persist(info: TaskInfo): void {
    this.#db
      .prepare(
        `UPDATE tasks SET state = ?, percent = ?, bytes_done = ?, bytes_total = ?, message = ?, ended_at = ?, result = ?,
           error_code = ?, error_message = ? WHERE id = ?`,
      )
      .run(
        info.state,
        info.percent,
        info.bytesDone ?? null,
        info.bytesTotal ?? null,
        info.message ?? null,
        info.endedAt ?? null,
        info.result === undefined ? null : JSON.stringify(info.result),
        info.error?.code ?? null,
        info.error?.message ?? null,
        info.id,
      );
  }
}

/** Only a deliberate error's code and message reach the task (never a stack, never a cause's text). */
function taskError(err: unknown): { code: string; message: string } {
  if (err instanceof VmcryptError) return { code: err.code, message: clip(err.message) };
  return { code: 'MANAGER_INTERNAL', message: clip(err instanceof Error ? err.message : String(err)) };
}

function clip(s: string): string {
  return s.length > MAX_ERROR_MESSAGE ? `${s.slice(0, MAX_ERROR_MESSAGE)}…` : s;
}

function boundedResult(result: unknown): unknown {
  const json = JSON.stringify(result);
  if (json === undefined) return undefined;
  if (json.length > MAX_RESULT_JSON) return { truncated: true, bytes: json.length };
  return JSON.parse(json) as unknown;
}

function fromRow(row: TaskRow): TaskInfo {
  const startedMs = Date.parse(row.started_at);
  const endMs = row.ended_at === null ? undefined : Date.parse(row.ended_at);
  const elapsedS = endMs === undefined ? 0 : (endMs - startedMs) / 1000;
  return {
    id: row.id,
    kind: row.kind,
    ...(row.entity_kind !== null && row.entity_id !== null ? { entity: { kind: row.entity_kind as EntityKind, id: row.entity_id } } : {}),
    ...(row.user !== null ? { user: row.user } : {}),
    state: row.state,
    percent: row.percent,
    ...(row.bytes_done !== null ? { bytesDone: row.bytes_done } : {}),
    ...(row.bytes_total !== null ? { bytesTotal: row.bytes_total } : {}),
    ...(row.bytes_done !== null && elapsedS > 0 ? { rate: Math.round(row.bytes_done / elapsedS) } : {}),
    ...(row.message !== null ? { message: row.message } : {}),
    startedAt: row.started_at,
    ...(row.ended_at !== null ? { endedAt: row.ended_at } : {}),
    ...(row.result !== null ? { result: JSON.parse(row.result) as unknown } : {}),
    ...(row.error_code !== null ? { error: { code: row.error_code, message: row.error_message ?? '' } } : {}),
  };
}
