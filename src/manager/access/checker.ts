import { ROOT, type AccessChecker, type AncestryResolver, type EntityRef, type Principal, type Privilege } from '../contracts.js';
import { ManagerError } from '../errors.js';
import type { PermissionStore } from './permissions.js';
import type { RoleStore } from './roles.js';

/** Until the inventory plugs its tree in, every object hangs directly under the root. */
const FLAT: AncestryResolver = {
  ancestors(e) {
    if (e.kind !== ROOT.kind) return [ROOT];
    if (e.id !== ROOT.id) throw new ManagerError('MANAGER_NOT_FOUND', `root ${e.id} not found`);
    return [];
  },
};

/**
 * vSphere's permission rule: the permission nearest to the object wins. A permission set on the
 * object itself applies; one on an ancestor applies only if it propagates. A closer permission
 * overrides a farther one entirely (so "No Access" on a folder hides it from a global admin role).
 */
export class AccessControl implements AccessChecker {
  readonly #permissions: PermissionStore;
  readonly #roles: RoleStore;
  #ancestry: AncestryResolver = FLAT;

  constructor(permissions: PermissionStore, roles: RoleStore) {
    this.#permissions = permissions;
    this.#roles = roles;
  }

  setAncestry(resolver: AncestryResolver): void {
    this.#ancestry = resolver;
  }

  /** The object's ancestors (throws MANAGER_NOT_FOUND for an object the inventory does not know). */
  ancestorsOf(entity: EntityRef): EntityRef[] {
    // there is one root whatever the resolver says: `root x` is not an object
    if (entity.kind === ROOT.kind && entity.id !== ROOT.id) throw new ManagerError('MANAGER_NOT_FOUND', `root ${entity.id} not found`);
    return this.#ancestry.ancestors(entity);
  }

  /** The role that governs the user on this object, if any. */
  effectiveRole(user: string, entity: EntityRef = ROOT): string | undefined {
    const chain = this.ancestorsOf(entity);
    const own = this.#permissions.find(user, entity);
    if (own !== undefined) return own.role;
    for (const ancestor of chain) {
      const p = this.#permissions.find(user, ancestor);
      if (p?.propagate === true) return p.role;
      // a non-propagating permission on an ancestor neither grants nor blocks: keep walking up
    }
    return undefined;
  }

  privileges(user: string, entity: EntityRef = ROOT): ReadonlySet<Privilege> {
    const role = this.effectiveRole(user, entity);
    return new Set(role === undefined ? [] : (this.#roles.get(role)?.privileges ?? []));
  }

  has(principal: Principal, privilege: Privilege, entity: EntityRef = ROOT): boolean {
    return this.privileges(principal.user, entity).has(privilege);
  }

  check(principal: Principal, privilege: Privilege, entity: EntityRef = ROOT): void {
    if (!this.has(principal, privilege, entity)) {
      throw new ManagerError('MANAGER_FORBIDDEN', `user ${principal.user} lacks privilege ${privilege} on ${entity.kind} ${entity.id}`);
    }
  }
}
