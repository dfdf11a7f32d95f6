import type { Database } from 'better-sqlite3';
import { EntityKind, ROOT, type AncestryResolver, type EntityRef } from '../contracts.js';
import { notFound } from '../errors.js';

/** Folders nest; a cycle cannot be made through the API, but a damaged database must not hang a permission check. */
const MAX_DEPTH = 64;

/**
 * The inventory tree as permissions see it (vSphere: permissions inherit downward):
 * vm → folder → … → ROOT, host → cluster → ROOT, folder → … → ROOT, and cluster, datastore,
 * policy, key provider → ROOT. Key providers live in key management's tables, so any id is
 * accepted for them.
 */
export function createAncestryResolver(db: Database): AncestryResolver {
  const folderParent = db.prepare('SELECT parent_id AS p FROM inv_folders WHERE id = ?');
  const vmFolder = db.prepare('SELECT folder_id AS f FROM inv_vms WHERE id = ?');
  const hostCluster = db.prepare('SELECT cluster_id AS c FROM inv_hosts WHERE id = ?');
  const exists = (table: string) => db.prepare(`SELECT 1 AS x FROM ${table} WHERE id = ?`);
  const clusterExists = exists('inv_clusters');
  const dsExists = exists('inv_datastores');
  const policyExists = exists('inv_policies');

  const folderChain = (folderId: string | null): EntityRef[] => {
    const out: EntityRef[] = [];
    let cur = folderId;
    while (cur !== null) {
      if (out.length >= MAX_DEPTH) break;
      out.push({ kind: EntityKind.FOLDER, id: cur });
      const row = folderParent.get(cur) as { p: string | null } | undefined;
      if (row === undefined) throw notFound('folder', cur);
      cur = row.p;
    }
    return [...out, ROOT];
  };

  const must = (found: unknown, e: EntityRef): void => {
    if (found === undefined) throw notFound(e.kind, e.id);
  };

  return {
    ancestors(e: EntityRef): EntityRef[] {
      switch (e.kind) {
        case EntityKind.ROOT:
          return [];
        case EntityKind.FOLDER: {
          const row = folderParent.get(e.id) as { p: string | null } | undefined;
          must(row, e);
          return folderChain(row?.p ?? null);
        }
        case EntityKind.VM: {
          const row = vmFolder.get(e.id) as { f: string | null } | undefined;
          must(row, e);
          return folderChain(row?.f ?? null);
        }
        case EntityKind.HOST: {
          const row = hostCluster.get(e.id) as { c: string | null } | undefined;
          must(row, e);
          return row?.c == null ? [ROOT] : [{ kind: EntityKind.CLUSTER, id: row.c }, ROOT];
        }
        case EntityKind.CLUSTER:
          must(clusterExists.get(e.id), e);
          return [ROOT];
        case EntityKind.DATASTORE:
          must(dsExists.get(e.id), e);
          return [ROOT];
        case EntityKind.POLICY:
          must(policyExists.get(e.id), e);
          return [ROOT];
        case EntityKind.KEY_PROVIDER:
          return [ROOT];
        default:
          throw notFound(String((e as EntityRef).kind), e.id);
      }
    },
  };
}
