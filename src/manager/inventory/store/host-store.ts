import type { Database } from 'better-sqlite3';
import type { HostConnectionState, HostCryptoMode, HostRecord, KeyRef } from '../../contracts.js';
import { ManagerError, notFound } from '../../errors.js';
import { newId, nowIso } from '../ids.js';

interface HostRow {
  id: string; name: string; url: string; thumbprint: string; cluster_id: string | null;
  connection_state: string; crypto_mode: string; host_key_provider_id: string | null; host_key_id: string | null;
}

const HOST_COLUMNS = 'id, name, url, thumbprint, cluster_id, connection_state, crypto_mode, host_key_provider_id, host_key_id';

function toHost(r: HostRow): HostRecord {
  return {
    id: r.id, name: r.name, url: r.url, thumbprint: r.thumbprint,
    ...(r.cluster_id === null ? {} : { clusterId: r.cluster_id }),
    connectionState: r.connection_state as HostConnectionState,
    cryptoMode: r.crypto_mode as HostCryptoMode,
    ...(r.host_key_id === null || r.host_key_provider_id === null ? {} : { hostKey: { providerId: r.host_key_provider_id, keyId: r.host_key_id } }),
  };
}

/** What the host agent last said it can do for migrations (its `GET /v1/host` → `migration`). */
export interface HostMigration {
  readonly encryption: boolean;
  readonly channels: readonly string[];
}

/** A host record with what the monitor observed of it in memory (`migration` absent until the first successful poll). */
export type HostView = HostRecord & { readonly migration?: HostMigration };

/** Where the monitor left off in the host's event feed (`seq` restarts at 0 when the agent restarts). */
export interface EventCursor {
  readonly seq: number;
  readonly time: string;
}

export class HostStore {
  readonly #db: Database;
  /** Observed by the monitor, not persisted: a restarted manager learns it again at the first poll. */
  readonly #migration = new Map<string, HostMigration>();

  constructor(db: Database) {
    this.#db = db;
  }

  host(id: string): HostView | undefined {
    const r = this.#db.prepare(`SELECT ${HOST_COLUMNS} FROM inv_hosts WHERE id = ?`).get(id) as HostRow | undefined;
    return r === undefined ? undefined : this.#view(r);
  }

  #view(r: HostRow): HostView {
    const m = this.#migration.get(r.id);
    return m === undefined ? toHost(r) : { ...toHost(r), migration: { encryption: m.encryption, channels: [...m.channels] } };
  }

  /** Records what the host's agent said at the last successful poll. */
  setMigration(id: string, m: HostMigration): void {
    this.#migration.set(id, { encryption: m.encryption, channels: [...m.channels] });
  }

  require(id: string): HostView {
    const h = this.host(id);
    if (h === undefined) throw notFound('host', id);
    return h;
  }

  list(): HostView[] {
    return (this.#db.prepare(`SELECT ${HOST_COLUMNS} FROM inv_hosts ORDER BY name`).all() as HostRow[]).map((r) => this.#view(r));
  }

  inCluster(clusterId: string): HostRecord[] {
    return (this.#db.prepare(`SELECT ${HOST_COLUMNS} FROM inv_hosts WHERE cluster_id = ? ORDER BY name`).all(clusterId) as HostRow[]).map(toHost);
  }

  insert(spec: { name: string; url: string; thumbprint: string; clusterId?: string; cryptoMode: HostCryptoMode; hostKeyId?: string }): HostRecord {
    if (this.#db.prepare('SELECT 1 FROM inv_hosts WHERE name = ? OR url = ?').get(spec.name, spec.url) !== undefined) {
      throw new ManagerError('MANAGER_CONFLICT', `a host named ${spec.name} or at ${spec.url} is already in the inventory`);
    }
    const id = newId('host');
    this.#db
      .prepare('INSERT INTO inv_hosts (id, name, url, thumbprint, cluster_id, connection_state, crypto_mode, added_at, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(id, spec.name, spec.url, spec.thumbprint, spec.clusterId ?? null, 'connected', spec.cryptoMode, nowIso(), nowIso());
    return this.require(id);
  }

  remove(id: string): void {
    this.require(id);
    const n = this.#db.prepare('SELECT COUNT(*) AS n FROM inv_vms WHERE host_id = ?').get(id) as { n: number };
    if (n.n > 0) throw new ManagerError('MANAGER_CONFLICT', `host ${id} still has ${n.n} VM(s) registered; move or unregister them first`);
    this.#db.transaction(() => {
      this.#db.prepare('DELETE FROM inv_hosts WHERE id = ?').run(id);
      this.#migration.delete(id);
      // a datastore no host mounts any more is gone from the inventory (its files stay)
      this.#db.prepare('DELETE FROM inv_datastores WHERE id NOT IN (SELECT datastore_id FROM inv_host_datastores)').run();
    })();
  }

  /** Returns the previous state (for transition events). */
  setConnectionState(id: string, state: HostConnectionState): HostConnectionState | undefined {
    const before = this.host(id)?.connectionState;
    this.#db.prepare('UPDATE inv_hosts SET connection_state = ?, last_seen = CASE WHEN ? = \'connected\' THEN ? ELSE last_seen END WHERE id = ?').run(state, state, nowIso(), id);
    return before;
  }

  setCrypto(id: string, mode: HostCryptoMode, hostKey?: KeyRef): void {
    const r = this.#db
      .prepare('UPDATE inv_hosts SET crypto_mode = ?, host_key_provider_id = COALESCE(?, host_key_provider_id), host_key_id = COALESCE(?, host_key_id) WHERE id = ?')
      .run(mode, hostKey?.providerId ?? null, hostKey?.keyId ?? null, id);
    if (r.changes === 0) throw notFound('host', id);
  }

  setThumbprint(id: string, thumbprint: string): void {
    this.#db.prepare('UPDATE inv_hosts SET thumbprint = ? WHERE id = ?').run(thumbprint, id);
  }

  eventCursor(id: string): EventCursor {
    const r = this.#db.prepare('SELECT event_seq AS seq, event_time AS time FROM inv_hosts WHERE id = ?').get(id) as EventCursor | undefined;
    return r ?? { seq: 0, time: '' };
  }

  setEventCursor(id: string, c: EventCursor): void {
    this.#db.prepare('UPDATE inv_hosts SET event_seq = ?, event_time = ? WHERE id = ?').run(c.seq, c.time, id);
  }
}
