import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { writePrivateFile } from '../../fs/private-files.js';
import { ROOT } from '../contracts.js';
import { ADMINISTRATOR_ROLE } from './builtin-roles.js';
import type { PermissionStore } from './permissions.js';
import type { UserStore } from './users.js';

export const INITIAL_ADMIN_USER = 'admin';
export const INITIAL_ADMIN_PASSWORD_FILE = 'initial-admin-password';

export interface InitialAdmin {
  readonly user: string;
  /** Set only when the platform generated it: the caller prints it once. */
  readonly generatedPassword?: string;
  readonly passwordFile?: string;
}

/**
 * First start (no user yet): `admin` with the Administrator role on the root, like vCenter's
 * administrator@vsphere.local. A generated password goes to DATA/initial-admin-password (0600)
 * for the operator to read once and replace.
 */
export async function ensureInitialAdmin(
  dataDir: string,
  users: UserStore,
  permissions: PermissionStore,
  password?: string,
): Promise<InitialAdmin | undefined> {
  if (users.count() > 0) return undefined;
  const generated = password === undefined ? randomBytes(18).toString('base64url') : undefined;
  await users.create(INITIAL_ADMIN_USER, password ?? (generated as string));
  permissions.set({ principal: INITIAL_ADMIN_USER, entity: ROOT, role: ADMINISTRATOR_ROLE, propagate: true });
  if (generated === undefined) return { user: INITIAL_ADMIN_USER };
  const passwordFile = join(dataDir, INITIAL_ADMIN_PASSWORD_FILE);
  await writePrivateFile(passwordFile, `${generated}\n`);
  return { user: INITIAL_ADMIN_USER, generatedPassword: generated, passwordFile };
}
