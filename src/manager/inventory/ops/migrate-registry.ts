import { refuse, VmRule } from './rules.js';

/** A migration in flight, as the refusals name it. */
export interface InFlightMigration {
  readonly migrationId: string;
  readonly vmName: string;
  /** Where the VM goes, as an operator reads it: `host esx2`, `datastore ds2`, `manager https://…`. */
  readonly to: string;
  readonly startedAt: string;
}

/**
 * The VMs migrating now (seed 001: during a migration the keys cannot change, so no decrypt,
 * recrypt, rekey or policy change). In memory: a manager restart ends every migration it ran
 * (the host side aborts a migration nobody drives), so nothing migrates after a restart.
 */
export class MigratingVms {
  readonly #now = new Map<string, InFlightMigration>();

  get(vmId: string): InFlightMigration | undefined {
    return this.#now.get(vmId);
  }

  /** Marks the VM migrating; refuses a second migration of it. */
  begin(vmId: string, m: InFlightMigration): void {
    this.refuseWhileMigrating(vmId, 'another migration');
    this.#now.set(vmId, m);
  }

  end(vmId: string, migrationId: string): void {
    if (this.#now.get(vmId)?.migrationId === migrationId) this.#now.delete(vmId);
  }

  /** Throws `… (rule: vm-migrating)` naming the migration when the VM is migrating. */
  refuseWhileMigrating(vmId: string, what: string): void {
    const m = this.#now.get(vmId);
    if (m === undefined) return;
    throw refuse(VmRule.MIGRATING, `VM ${m.vmName} is migrating to ${m.to} (migration ${m.migrationId}, since ${m.startedAt}): ${what} is not accepted until it ends`);
  }
}
