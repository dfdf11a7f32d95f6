import type { Migration } from '../contracts.js';

/** Users, sessions/API tokens (hashes only), custom roles and permissions. */
export const ACCESS_MIGRATIONS: readonly Migration[] = [
  {
    name: 'platform-002-access',
    sql: `
CREATE TABLE users (
  name TEXT PRIMARY KEY,
  password_hash TEXT NOT NULL,
  created_at TEXT NOT NULL
) STRICT;
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('session', 'apiToken')),
  label TEXT,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
) STRICT;
CREATE INDEX sessions_by_user ON sessions (user);
CREATE TABLE roles (
  name TEXT PRIMARY KEY,
  privileges TEXT NOT NULL,
  created_at TEXT NOT NULL
) STRICT;
CREATE TABLE permissions (
  principal TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
  entity_kind TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  role TEXT NOT NULL,
  propagate INTEGER NOT NULL CHECK (propagate IN (0, 1)),
  PRIMARY KEY (principal, entity_kind, entity_id)
) STRICT;
CREATE INDEX permissions_by_entity ON permissions (entity_kind, entity_id);
`,
  },
];
