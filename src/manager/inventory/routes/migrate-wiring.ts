import { cloneAcross } from '../cross-manager/clone-across.js';
import { IncomingMigrations } from '../cross-manager/incoming.js';
import { OutgoingMigrations, type AcrossRequest } from '../cross-manager/outgoing.js';
import type { Inventory } from '../inventory.js';
import type { CloneRequest } from '../ops/copy-ops.js';
import type { MigrateDeps } from '../ops/migrate-plan.js';
import { MigrationService } from '../ops/migrate-service.js';
import type { Principal, TaskInfo } from '../../contracts.js';

/** The migration services of one inventory (same manager, outgoing and incoming across managers). */
export interface Migrations {
  readonly local: MigrationService;
  readonly outgoing: OutgoingMigrations;
  readonly incoming: IncomingMigrations;
  cloneAcross(vmId: string, req: Omit<CloneRequest, 'hostId'> & AcrossRequest, who: Principal): Promise<TaskInfo>;
}

const built = new WeakMap<Inventory, Migrations>();

/** Built once per inventory from its parts (the VM lock and the migrating set are the VM operations'). */
export function migrationsOf(inv: Inventory): Migrations {
  const have = built.get(inv);
  if (have !== undefined) return have;
  const d: MigrateDeps = {
    db: inv.platform.db, vms: inv.vms, hosts: inv.hosts, datastores: inv.datastores, settings: inv.settings, ops: inv.ops,
    gateway: inv.gateway, keys: inv.keys, access: inv.platform.access, tasks: inv.platform.tasks, events: inv.platform.events,
    migrating: inv.vmOps.migrating, exclusive: (vmId, hostId, fn) => inv.vmOps.exclusive(vmId, hostId, fn), log: inv.platform.log,
  };
  const outgoing = new OutgoingMigrations(d, inv.policies);
  const m: Migrations = {
    local: new MigrationService(d),
    outgoing,
    incoming: new IncomingMigrations(d, inv.policies),
    cloneAcross: (vmId, req, who) => cloneAcross(d, outgoing, (id, r, w) => inv.backups.clone(id, r, w), vmId, req, who),
  };
  built.set(inv, m);
  return m;
}
