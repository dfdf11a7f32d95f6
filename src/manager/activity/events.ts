import type { Database } from 'better-sqlite3';
import type { EntityKind, EntityRef, EventInput, EventPoster, ManagerEvent, Severity } from '../contracts.js';
import { ManagerError } from '../errors.js';
import { Listeners } from './listeners.js';

export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'error', 'critical'];
export const MAX_EVENT_LIST = 1000;
const MAX_MESSAGE = 2048;
const MAX_DATA_ENTRIES = 32;

export interface EventFilter {
  /** Only events with a larger id (a client's cursor). */
  readonly afterId?: number;
  readonly entity?: EntityRef;
  /** An exact type, or a prefix ending in `.*` (`vm.locked.*`). */
  readonly type?: string;
  /** This severity or a worse one. */
  readonly minSeverity?: Severity;
  readonly limit?: number;
}

interface EventRow {
  id: number;
  time: string;
  type: string;
  severity: Severity;
  message: string;
  entity_kind: string | null;
  entity_id: string | null;
  user: string | null;
  data: string | null;
}

/** The persisted event log (vCenter's Events view); posting also feeds alarms and subscribers. */
export class EventLog implements EventPoster {
  readonly #db: Database;
  readonly #now: () => Date;
  readonly #listeners = new Listeners<ManagerEvent>();
  readonly #derive: ((event: ManagerEvent) => void) | undefined;

  /** `derive` runs in the event's own transaction (alarms): an event and its alarm change land together. */
  constructor(db: Database, now: () => Date, opts: { derive?: (event: ManagerEvent) => void } = {}) {
    this.#db = db;
    this.#now = now;
    this.#derive = opts.derive;
  }

  post(input: EventInput): ManagerEvent {
    if (!SEVERITIES.includes(input.severity)) throw new ManagerError('MANAGER_BAD_REQUEST', `event severity ${String(input.severity)} is unknown`);
    if (input.data !== undefined && Object.keys(input.data).length > MAX_DATA_ENTRIES) {
      throw new ManagerError('MANAGER_BAD_REQUEST', `event data has more than ${MAX_DATA_ENTRIES} entries`);
    }
    const time = this.#now().toISOString();
    const message = input.message.length > MAX_MESSAGE ? `${input.message.slice(0, MAX_MESSAGE)}…` : input.message;
    const insert = this.#db.prepare(
      'INSERT INTO events (time, type, severity, message, entity_kind, entity_id, user, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const write = this.#db.transaction((): ManagerEvent => {
      const info = insert.run(
        time,
        input.type,
        input.severity,
        message,
        input.entity?.kind ?? null,
        input.entity?.id ?? null,
        input.user ?? null,
        input.data === undefined ? null : JSON.stringify(input.data),
      );
      const posted: ManagerEvent = { ...input, message, id: Number(info.lastInsertRowid), time };
      this.#derive?.(posted);
      return posted;
    });
    const event = write();
    this.#listeners.emit(event);
    return event;
  }

  get(id: number): ManagerEvent | undefined {
    const row = this.#db.prepare('SELECT * FROM events WHERE id = ?').get(id) as EventRow | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  /** Oldest first, so `afterId` of the last one is the next page's cursor. */
  list(filter: EventFilter = {}): ManagerEvent[] {
    const where: string[] = [];
    const args: Array<string | number> = [];
    if (filter.afterId !== undefined) {
      where.push('id > ?');
      args.push(filter.afterId);
    }
    if (filter.entity !== undefined) {
      where.push('entity_kind = ? AND entity_id = ?');
      args.push(filter.entity.kind, filter.entity.id);
    }
    if (filter.type !== undefined) {
      if (filter.type.endsWith('.*')) {
        where.push("substr(type, 1, ?) = ?");
        const prefix = filter.type.slice(0, -1);
        args.push(prefix.length, prefix);
      } else {
        where.push('type = ?');
        args.push(filter.type);
      }
    }
    if (filter.minSeverity !== undefined) {
      const worse = SEVERITIES.slice(SEVERITIES.indexOf(filter.minSeverity));
      where.push(`severity IN (${worse.map(() => '?').join(', ')})`);
      args.push(...worse);
    }
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), MAX_EVENT_LIST);
    const sql = `SELECT * FROM events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id ${
      filter.afterId === undefined ? 'DESC' : 'ASC'
    } LIMIT ?`;
    const rows = this.#db.prepare(sql).all(...args, limit) as EventRow[];
    // without a cursor the newest `limit` are wanted, still returned oldest first
    if (filter.afterId === undefined) rows.reverse();
    return rows.map(fromRow);
  }

  subscribe(fn: (event: ManagerEvent) => void): () => void {
    return this.#listeners.add(fn);
  }
}

export function matchesFilter(event: ManagerEvent, filter: EventFilter): boolean {
  if (filter.afterId !== undefined && event.id <= filter.afterId) return false;
  if (filter.entity !== undefined && (event.entity?.kind !== filter.entity.kind || event.entity.id !== filter.entity.id)) return false;
  if (filter.type !== undefined) {
    if (filter.type.endsWith('.*') ? !event.type.startsWith(filter.type.slice(0, -1)) : event.type !== filter.type) return false;
  }
  if (filter.minSeverity !== undefined && SEVERITIES.indexOf(event.severity) < SEVERITIES.indexOf(filter.minSeverity)) return false;
  return true;
}

function fromRow(row: EventRow): ManagerEvent {
  return {
    id: row.id,
    time: row.time,
    type: row.type,
    severity: row.severity,
    message: row.message,
    ...(row.entity_kind !== null && row.entity_id !== null ? { entity: { kind: row.entity_kind as EntityKind, id: row.entity_id } } : {}),
    ...(row.user !== null ? { user: row.user } : {}),
    ...(row.data !== null ? { data: JSON.parse(row.data) as Record<string, string | number | boolean> } : {}),
  };
}
