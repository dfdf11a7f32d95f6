import { ROOT, type EntityRef } from '../contracts.js';
import { conflict } from '../errors.js';
import { ADMINISTRATOR_ROLE } from './builtin-roles.js';
import type { PermissionStore } from './permissions.js';

/**
 * Refuses a change that would leave nobody with the Administrator role on the root: without one,
 * nobody could grant anything again (vCenter refuses the same).
 */
export function assertAdministratorRemains(permissions: PermissionStore, change: { principal: string; entity?: EntityRef; newRole?: string }): void {
  const entity = change.entity ?? ROOT;
  if (entity.kind !== ROOT.kind || entity.id !== ROOT.id) return;
  const current = permissions.find(change.principal, ROOT);
  if (current?.role !== ADMINISTRATOR_ROLE || change.newRole === ADMINISTRATOR_ROLE) return;
  if (permissions.countWithRole(ADMINISTRATOR_ROLE, ROOT) <= 1) {
    throw conflict('at least one Administrator on the root', `${change.principal} is the last Administrator on the root`);
  }
}
