import { Privilege } from '../contracts.js';

export const ALL_PRIVILEGES: readonly Privilege[] = Object.values(Privilege);

const isCrypto = (p: Privilege): boolean => p.startsWith('Cryptographer.');

/**
 * vSphere's system roles. Computed from the privilege list, never stored, so a privilege added
 * later lands in Administrator (and, unless it is Cryptographer.*, in No Cryptography Administrator).
 */
export const BUILTIN_ROLES = {
  Administrator: ALL_PRIVILEGES,
  'No Cryptography Administrator': ALL_PRIVILEGES.filter((p) => !isCrypto(p)),
  'Read-only': [Privilege.SYSTEM_READ],
  'No Access': [],
} as const satisfies Record<string, readonly Privilege[]>;

export type BuiltinRoleName = keyof typeof BUILTIN_ROLES;
export const ADMINISTRATOR_ROLE: BuiltinRoleName = 'Administrator';

export function isBuiltinRole(name: string): name is BuiltinRoleName {
  return Object.hasOwn(BUILTIN_ROLES, name);
}
