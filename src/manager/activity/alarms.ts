import type { Database } from 'better-sqlite3';
import { ROOT, type EntityKind, type EntityRef, type ManagerEvent } from '../contracts.js';
import { ManagerError } from '../errors.js';
import { ALARM_RULES, ruleMatches, type AlarmRule, type AlarmStatus } from './alarm-rules.js';

export interface Alarm {
  readonly id: number;
  readonly name: string;
  readonly entity: EntityRef;
  readonly status: AlarmStatus;
  readonly message: string;
  /** The event that last changed the alarm. */
  readonly eventId: number;
  readonly triggeredAt: string;
  readonly updatedAt: string;
  readonly acknowledged?: { readonly by: string; readonly at: string };
}

export interface AlarmFilter {
  /** Only triggered (yellow/red) alarms; default true. */
  readonly active?: boolean;
  readonly entity?: EntityRef;
}

interface AlarmRow {
  id: number;
  name: string;
  entity_kind: string;
  entity_id: string;
  status: AlarmStatus;
  message: string;
  event_id: number;
  triggered_at: string;
  updated_at: string;
  acknowledged_by: string | null;
  acknowledged_at: string | null;
}

/** Alarms derived from events by a rules table; acknowledging records who and when. */
export class AlarmBook {
  readonly #db: Database;
  readonly #now: () => Date;
  readonly #rules: readonly AlarmRule[];

  constructor(db: Database, now: () => Date, rules: readonly AlarmRule[] = ALARM_RULES) {
    this.#db = db;
    this.#now = now;
    this.#rules = rules;
  }

  /** Applies every rule the event matches (called for each posted event). */
  apply(event: ManagerEvent): void {
    for (const rule of this.#rules) {
      if (!ruleMatches(rule, event.type)) continue;
      const status = typeof rule.status === 'function' ? rule.status(event) : rule.status;
      if (status !== undefined) this.#set(rule.alarm, event.entity ?? ROOT, status, event);
    }
  }

  #set(name: string, entity: EntityRef, status: AlarmStatus, event: ManagerEvent): void {
    const existing = this.#db
      .prepare('SELECT * FROM alarms WHERE name = ? AND entity_kind = ? AND entity_id = ?')
      .get(name, entity.kind, entity.id) as AlarmRow | undefined;
    const now = event.time;
    if (existing === undefined) {
      // a clearing event for an alarm never raised has nothing to clear
      if (status === 'green') return;
      this.#db
        .prepare(
          'INSERT INTO alarms (name, entity_kind, entity_id, status, message, event_id, triggered_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(name, entity.kind, entity.id, status, event.message, event.id, now, now);
      return;
    }
    // green → triggered is a new occurrence: a fresh acknowledgement is needed
    const retriggered = existing.status === 'green' && status !== 'green';
    this.#db
      .prepare(
        `UPDATE alarms SET status = ?, message = ?, event_id = ?, updated_at = ?,
           triggered_at = CASE WHEN ? THEN ? ELSE triggered_at END,
           acknowledged_by = CASE WHEN ? THEN NULL ELSE acknowledged_by END,
           acknowledged_at = CASE WHEN ? THEN NULL ELSE acknowledged_at END
         WHERE id = ?`,
      )
      .run(status, event.message, event.id, now, retriggered ? 1 : 0, now, retriggered ? 1 : 0, retriggered ? 1 : 0, existing.id);
  }

  get(id: number): Alarm | undefined {
    const row = this.#db.prepare('SELECT * FROM alarms WHERE id = ?').get(id) as AlarmRow | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  list(filter: AlarmFilter = {}): Alarm[] {
    const where: string[] = [];
    const args: string[] = [];
    if (filter.active ?? true) where.push("status != 'green'");
    if (filter.entity !== undefined) {
      where.push('entity_kind = ? AND entity_id = ?');
      args.push(filter.entity.kind, filter.entity.id);
    }
    const rows = this.#db
      .prepare(`SELECT * FROM alarms ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`)
      .all(...args) as AlarmRow[];
    return rows.map(fromRow);
  }

  acknowledge(id: number, user: string): Alarm {
    const alarm = this.get(id);
    if (alarm === undefined) throw new ManagerError('MANAGER_NOT_FOUND', `alarm ${id} not found`);
    if (alarm.status === 'green') throw new ManagerError('MANAGER_CONFLICT', `alarm ${id} is not triggered (rule: only a triggered alarm can be acknowledged)`);
    this.#db.prepare('UPDATE alarms SET acknowledged_by = ?, acknowledged_at = ? WHERE id = ?').run(user, this.#now().toISOString(), id);
    return this.get(id) as Alarm;
  }
}

function fromRow(row: AlarmRow): Alarm {
  return {
    id: row.id,
    name: row.name,
    entity: { kind: row.entity_kind as EntityKind, id: row.entity_id },
    status: row.status,
    message: row.message,
    eventId: row.event_id,
    triggeredAt: row.triggered_at,
    updatedAt: row.updated_at,
    ...(row.acknowledged_by !== null && row.acknowledged_at !== null ? { acknowledged: { by: row.acknowledged_by, at: row.acknowledged_at } } : {}),
  };
}
