import type { Migration } from '../contracts.js';

/**
 * Key management's tables. Key ids only: no column ever holds key bytes. The provider's trust
 * JSON holds certificates and the client private key sealed under the manager secret
 * (src/pki/seal.ts), never a KEK.
 */
export const KEY_MIGRATIONS: Migration[] = [
  {
    name: 'keys-001-providers',
    sql: `
CREATE TABLE key_providers (
  id TEXT PRIMARY KEY,
  servers TEXT NOT NULL,
  trust TEXT NOT NULL,
  is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
  hung_timeout_ms INTEGER,
  created_at TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX key_providers_one_default ON key_providers (is_default) WHERE is_default = 1;
CREATE TABLE key_manager_meta (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
CREATE TABLE keks (
  provider_id TEXT NOT NULL,
  key_id TEXT NOT NULL,
  entity_kind TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  created_by TEXT,
  created_at TEXT NOT NULL,
  PRIMARY KEY (provider_id, key_id)
) STRICT;
CREATE INDEX keks_entity ON keks (entity_kind, entity_id);
`,
  },
];
