import type { Database } from 'better-sqlite3';
import type { ClusterRecord } from '../../contracts.js';
import { ManagerError, notFound } from '../../errors.js';
import { newId, nowIso } from '../ids.js';

export interface FolderRecord {
  readonly id: string;
  readonly name: string;
  /** Absent = directly under the root. */
  readonly parentId?: string;
}

interface FolderRow { id: string; name: string; parent_id: string | null }
interface ClusterRow { id: string; name: string; ha: number }

const toFolder = (r: FolderRow): FolderRecord => ({ id: r.id, name: r.name, ...(r.parent_id === null ? {} : { parentId: r.parent_id }) });
const toCluster = (r: ClusterRow): ClusterRecord => ({ id: r.id, name: r.name, ha: r.ha === 1 });

/** Folders (a tree under the root) and clusters (directly under the root, with the HA flag). */
export class TreeStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  folder(id: string): FolderRecord | undefined {
    const r = this.#db.prepare('SELECT id, name, parent_id FROM inv_folders WHERE id = ?').get(id) as FolderRow | undefined;
    return r === undefined ? undefined : toFolder(r);
  }

  listFolders(): FolderRecord[] {
    return (this.#db.prepare('SELECT id, name, parent_id FROM inv_folders ORDER BY name').all() as FolderRow[]).map(toFolder);
  }

  createFolder(name: string, parentId?: string): FolderRecord {
    if (parentId !== undefined && this.folder(parentId) === undefined) throw notFound('folder', parentId);
    const dup = this.#db.prepare("SELECT 1 FROM inv_folders WHERE COALESCE(parent_id, '') = ? AND name = ?").get(parentId ?? '', name);
    if (dup !== undefined) throw new ManagerError('MANAGER_CONFLICT', `a folder named ${name} already exists there`);
    const id = newId('folder');
    this.#db.prepare('INSERT INTO inv_folders (id, name, parent_id, created_at) VALUES (?, ?, ?, ?)').run(id, name, parentId ?? null, nowIso());
    return toFolder({ id, name, parent_id: parentId ?? null });
  }

  deleteFolder(id: string): void {
    if (this.folder(id) === undefined) throw notFound('folder', id);
    const used = this.#db.prepare('SELECT (SELECT COUNT(*) FROM inv_folders WHERE parent_id = ?) + (SELECT COUNT(*) FROM inv_vms WHERE folder_id = ?) AS n').get(id, id) as { n: number };
    if (used.n > 0) throw new ManagerError('MANAGER_CONFLICT', `folder ${id} is not empty`);
    this.#db.prepare('DELETE FROM inv_folders WHERE id = ?').run(id);
  }

  cluster(id: string): ClusterRecord | undefined {
    const r = this.#db.prepare('SELECT id, name, ha FROM inv_clusters WHERE id = ?').get(id) as ClusterRow | undefined;
    return r === undefined ? undefined : toCluster(r);
  }

  listClusters(): ClusterRecord[] {
    return (this.#db.prepare('SELECT id, name, ha FROM inv_clusters ORDER BY name').all() as ClusterRow[]).map(toCluster);
  }

  createCluster(name: string, ha: boolean): ClusterRecord {
    if (this.#db.prepare('SELECT 1 FROM inv_clusters WHERE name = ?').get(name) !== undefined) {
      throw new ManagerError('MANAGER_CONFLICT', `a cluster named ${name} already exists`);
    }
    const id = newId('cluster');
    this.#db.prepare('INSERT INTO inv_clusters (id, name, ha, created_at) VALUES (?, ?, ?, ?)').run(id, name, ha ? 1 : 0, nowIso());
    return { id, name, ha };
  }

  setClusterHa(id: string, ha: boolean): ClusterRecord {
    const r = this.#db.prepare('UPDATE inv_clusters SET ha = ? WHERE id = ?').run(ha ? 1 : 0, id);
    if (r.changes === 0) throw notFound('cluster', id);
    return this.cluster(id) as ClusterRecord;
  }

  deleteCluster(id: string): void {
    if (this.cluster(id) === undefined) throw notFound('cluster', id);
    const n = this.#db.prepare('SELECT COUNT(*) AS n FROM inv_hosts WHERE cluster_id = ?').get(id) as { n: number };
    if (n.n > 0) throw new ManagerError('MANAGER_CONFLICT', `cluster ${id} still has ${n.n} host(s)`);
    this.#db.prepare('DELETE FROM inv_clusters WHERE id = ?').run(id);
  }
}
