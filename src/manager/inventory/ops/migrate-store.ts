import type { Database } from 'better-sqlite3';

/**
 * Where a VM lives, as a migration changes it: its host, its datastore and its .vmx path, in
 * one statement (the VM keeps its id, its policy, its settings and its keys).
 */
export function moveVmRecord(db: Database, vmId: string, to: { hostId: string; datastoreId: string; vmxPath?: string }): void {
  db.prepare('UPDATE inv_vms SET host_id = ?, datastore_id = ?, vmx_path = COALESCE(?, vmx_path), observed_error = NULL WHERE id = ?')
    .run(to.hostId, to.datastoreId, to.vmxPath ?? null, vmId);
}
