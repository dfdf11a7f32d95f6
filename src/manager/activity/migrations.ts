import type { Migration } from '../contracts.js';

/** Events, alarms and tasks: what happened, what is wrong now, what is running. */
export const ACTIVITY_MIGRATIONS: readonly Migration[] = [
  {
    name: 'platform-001-activity',
    sql: `
CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time TEXT NOT NULL,
  type TEXT NOT NULL,
  severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'error', 'critical')),
  message TEXT NOT NULL,
  entity_kind TEXT,
  entity_id TEXT,
  user TEXT,
  data TEXT
) STRICT;
CREATE INDEX events_by_entity ON events (entity_kind, entity_id, id);
CREATE INDEX events_by_type ON events (type, id);
CREATE TABLE alarms (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  entity_kind TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('green', 'yellow', 'red')),
  message TEXT NOT NULL,
  event_id INTEGER NOT NULL REFERENCES events (id),
  triggered_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  acknowledged_by TEXT,
  acknowledged_at TEXT,
  UNIQUE (name, entity_kind, entity_id)
) STRICT;
CREATE TABLE tasks (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  entity_kind TEXT,
  entity_id TEXT,
  user TEXT,
  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'success', 'error')),
  percent REAL NOT NULL,
  bytes_done INTEGER,
  bytes_total INTEGER,
  message TEXT,
  started_at TEXT NOT NULL,
  ended_at TEXT,
  result TEXT,
  error_code TEXT,
  error_message TEXT
) STRICT;
CREATE INDEX tasks_by_start ON tasks (started_at);
`,
  },
];
