import type { Database } from 'better-sqlite3';
import { ManagerError, notFound } from '../../errors.js';
import { newId, nowIso } from '../ids.js';

export interface DatastoreRecord {
  readonly id: string;
  readonly name: string;
  /** The directory; several hosts mounting the same path = shared storage. */
  readonly path: string;
  readonly hosts: ReadonlyArray<{ readonly hostId: string; readonly mountName: string }>;
}

interface DsRow { id: string; name: string; path: string }

/** The datastore's directory without trailing slashes, as .vmx paths in host replies spell it. */
export function datastoreDir(ds: { readonly path: string }): string {
  return ds.path.replace(/\/+$/, '');
}

/** Where the host agent keeps the .vmx of a VM named `name` on the datastore: DATASTORE/NAME/NAME.vmx. */
export function vmxPathIn(ds: { readonly path: string }, name: string): string {
  return `${datastoreDir(ds)}/${name}/${name}.vmx`;
}

/** Datastores: a directory, mounted by one host (its own) or by several (shared: same path). */
export class DatastoreStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  #withHosts(r: DsRow): DatastoreRecord {
    const hosts = this.#db
      .prepare('SELECT host_id AS hostId, mount_name AS mountName FROM inv_host_datastores WHERE datastore_id = ? ORDER BY host_id')
      .all(r.id) as { hostId: string; mountName: string }[];
    return { ...r, hosts };
  }

  datastore(id: string): DatastoreRecord | undefined {
    const r = this.#db.prepare('SELECT id, name, path FROM inv_datastores WHERE id = ?').get(id) as DsRow | undefined;
    return r === undefined ? undefined : this.#withHosts(r);
  }

  require(id: string): DatastoreRecord {
    const d = this.datastore(id);
    if (d === undefined) throw notFound('datastore', id);
    return d;
  }

  byPath(path: string): DatastoreRecord | undefined {
    const r = this.#db.prepare('SELECT id, name, path FROM inv_datastores WHERE path = ?').get(path) as DsRow | undefined;
    return r === undefined ? undefined : this.#withHosts(r);
  }

  byName(name: string): DatastoreRecord | undefined {
    const r = this.#db.prepare('SELECT id, name, path FROM inv_datastores WHERE name = ?').get(name) as DsRow | undefined;
    return r === undefined ? undefined : this.#withHosts(r);
  }

  list(): DatastoreRecord[] {
    return (this.#db.prepare('SELECT id, name, path FROM inv_datastores ORDER BY name').all() as DsRow[]).map((r) => this.#withHosts(r));
  }

  onHost(hostId: string): DatastoreRecord[] {
    return (this.#db
      .prepare('SELECT d.id, d.name, d.path FROM inv_datastores d JOIN inv_host_datastores hd ON hd.datastore_id = d.id WHERE hd.host_id = ? ORDER BY d.name')
      .all(hostId) as DsRow[]).map((r) => this.#withHosts(r));
  }

  /** The datastore of the host whose directory holds this .vmx (DATASTORE/NAME/NAME.vmx). */
  holding(hostId: string, vmxPath: string): DatastoreRecord | undefined {
    const dir = vmxPath.replace(/\/[^/]+\/[^/]+$/, '');
    return this.onHost(hostId).find((d) => datastoreDir(d) === dir);
  }

  /** The name the host agent knows this datastore by, or undefined when the host does not mount it. */
  mountName(datastoreId: string, hostId: string): string | undefined {
    const r = this.#db.prepare('SELECT mount_name AS m FROM inv_host_datastores WHERE datastore_id = ? AND host_id = ?').get(datastoreId, hostId) as { m: string } | undefined;
    return r?.m;
  }

  /**
   * Records that `hostId` mounts `path` as `mountName`; the datastore is found by its path
   * (shared storage) or created, named `preferredName` or, when taken, `preferredName (host)`.
   * Idempotent.
   */
  attach(hostId: string, hostName: string, path: string, mountName: string, preferredName: string): DatastoreRecord {
    return this.#db.transaction(() => {
      let ds = this.byPath(path);
      if (ds === undefined) {
        let name = preferredName;
        if (this.byName(name) !== undefined) name = `${preferredName} (${hostName})`;
        if (this.byName(name) !== undefined) throw new ManagerError('MANAGER_CONFLICT', `a datastore named ${name} already exists`);
        const id = newId('datastore');
        this.#db.prepare('INSERT INTO inv_datastores (id, name, path, created_at) VALUES (?, ?, ?, ?)').run(id, name, path, nowIso());
        ds = this.require(id);
      }
      this.#db.prepare('INSERT OR REPLACE INTO inv_host_datastores (host_id, datastore_id, mount_name) VALUES (?, ?, ?)').run(hostId, ds.id, mountName);
      return this.require(ds.id);
    })();
  }
}
