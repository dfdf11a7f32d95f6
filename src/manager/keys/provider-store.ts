import { randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { emptyTrust, parseTrust, serializeTrust, type ProviderTrust } from '../../pki/trust/index.js';
import { ManagerError, notFound } from '../errors.js';
import type { EntityRef } from '../contracts.js';

/** A key server as the manager stores it (trust is per provider). */
export interface StoredServer {
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

export interface StoredProvider {
  readonly id: string;
  readonly servers: readonly StoredServer[];
  readonly trust: ProviderTrust;
  readonly isDefault: boolean;
  readonly hungTimeoutMs?: number;
  readonly createdAt: string;
}

interface Row {
  id: string;
  servers: string;
  trust: string;
  is_default: number;
  hung_timeout_ms: number | null;
  created_at: string;
}

const MAX_SERVERS_JSON = 64 * 1024;

function fromRow(r: Row): StoredProvider {
  if (r.servers.length > MAX_SERVERS_JSON) throw new ManagerError('MANAGER_DATABASE', `key provider ${r.id}: servers column too large`);
  return {
    id: r.id,
    servers: JSON.parse(r.servers) as StoredServer[],
    trust: parseTrust(r.trust),
    isDefault: r.is_default === 1,
    ...(r.hung_timeout_ms === null ? {} : { hungTimeoutMs: r.hung_timeout_ms }),
    createdAt: r.created_at,
  };
}

/** Key providers, the default one, the manager id and the record of created KEKs (ids only). */
export class ProviderStore {
  constructor(
    private readonly db: Database,
    private readonly now: () => Date = () => new Date(),
  ) {}

  list(): StoredProvider[] {
    return (this.db.prepare('SELECT * FROM key_providers ORDER BY created_at, id').all() as Row[]).map(fromRow);
  }

  get(id: string): StoredProvider | undefined {
    const r = this.db.prepare('SELECT * FROM key_providers WHERE id = ?').get(id) as Row | undefined;
    return r === undefined ? undefined : fromRow(r);
  }

  require(id: string): StoredProvider {
    const p = this.get(id);
    if (p === undefined) throw notFound('key provider', id);
    return p;
  }

  defaultId(): string | undefined {
    const r = this.db.prepare('SELECT id FROM key_providers WHERE is_default = 1').get() as { id: string } | undefined;
    return r?.id;
  }

  /** The first provider becomes the default one (vSphere does the same). */
  add(p: { id: string; servers: readonly StoredServer[]; hungTimeoutMs?: number; makeDefault?: boolean }): StoredProvider {
    const tx = this.db.transaction(() => {
      if (this.get(p.id) !== undefined) throw new ManagerError('MANAGER_CONFLICT', `key provider ${p.id} already exists`);
      const makeDefault = p.makeDefault === true || this.defaultId() === undefined;
      if (makeDefault) this.db.prepare('UPDATE key_providers SET is_default = 0 WHERE is_default = 1').run();
      this.db
        .prepare('INSERT INTO key_providers (id, servers, trust, is_default, hung_timeout_ms, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(p.id, JSON.stringify(p.servers), serializeTrust(emptyTrust()), makeDefault ? 1 : 0, p.hungTimeoutMs ?? null, this.now().toISOString());
    });
    tx();
    return this.require(p.id);
  }

  setServers(id: string, servers: readonly StoredServer[]): void {
    this.require(id);
    this.db.prepare('UPDATE key_providers SET servers = ? WHERE id = ?').run(JSON.stringify(servers), id);
  }

  setTrust(id: string, trust: ProviderTrust): void {
    this.require(id);
    this.db.prepare('UPDATE key_providers SET trust = ? WHERE id = ?').run(serializeTrust(trust), id);
  }

  setDefault(id: string): void {
    this.db.transaction(() => {
      this.require(id);
      this.db.prepare('UPDATE key_providers SET is_default = 0 WHERE is_default = 1').run();
      this.db.prepare('UPDATE key_providers SET is_default = 1 WHERE id = ?').run(id);
    })();
  }

  remove(id: string): void {
    this.require(id);
    this.db.prepare('DELETE FROM key_providers WHERE id = ?').run(id);
  }

  /** This manager's id, made once at first start; KEKs it creates are tagged with it. */
  managerId(): string {
    const r = this.db.prepare("SELECT value FROM key_manager_meta WHERE name = 'managerId'").get() as { value: string } | undefined;
    if (r !== undefined) return r.value;
    const id = `vmcrypt-manager-${randomUUID()}`;
    this.db.prepare("INSERT OR IGNORE INTO key_manager_meta (name, value) VALUES ('managerId', ?)").run(id);
    return this.managerId();
  }

  recordKek(providerId: string, keyId: string, entity: EntityRef, user: string | undefined): void {
    this.db
      .prepare('INSERT OR REPLACE INTO keks (provider_id, key_id, entity_kind, entity_id, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(providerId, keyId, entity.kind, entity.id, user ?? null, this.now().toISOString());
  }

  kek(providerId: string, keyId: string): { entity: EntityRef; createdBy?: string; createdAt: string } | undefined {
    const r = this.db.prepare('SELECT entity_kind, entity_id, created_by, created_at FROM keks WHERE provider_id = ? AND key_id = ?').get(providerId, keyId) as
      | { entity_kind: string; entity_id: string; created_by: string | null; created_at: string }
      | undefined;
    if (r === undefined) return undefined;
    return {
      entity: { kind: r.entity_kind as EntityRef['kind'], id: r.entity_id },
      ...(r.created_by === null ? {} : { createdBy: r.created_by }),
      createdAt: r.created_at,
    };
  }

  keksOfProvider(providerId: string): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM keks WHERE provider_id = ?').get(providerId) as { n: number }).n;
  }
}
