import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CliProfile } from '../profile.js';
import { readProfile, writeProfile } from '../profile-file.js';
import { LabError, LabErrorCode } from './errors.js';
import type { LabManagerClient } from './manager-client.js';

export const LAB_ADMIN_USER = 'admin';
const INITIAL_PASSWORD_FILE = 'initial-admin-password';
const MAX_PASSWORD_BYTES = 1024;

export const labProfilePath = (labDir: string): string => join(labDir, 'profile.json');
export const initialAdminPasswordFile = (managerDataDir: string): string => join(managerDataDir, INITIAL_PASSWORD_FILE);

/** The profile's token, if it still opens a session on this manager (same URL and certificate). */
async function reusableToken(api: LabManagerClient, path: string): Promise<string | undefined> {
  if (!existsSync(path)) return undefined;
  let p: CliProfile;
  try {
    p = await readProfile(path);
  } catch {
    return undefined;
  }
  if (p.managerUrl !== new URL(api.url).origin || p.thumbprint !== api.thumbprint) return undefined;
  try {
    await api.withToken(p.token).get('/api/session');
    return p.token;
  } catch {
    return undefined;
  }
}

/**
 * A logged-in client for the lab's setup and DIR/profile.json for the CLI: the API token of the
 * previous run when it still works, else a login as the initial admin and a new API token.
 */
export async function labSession(
  api: LabManagerClient, labDir: string, managerDataDir: string, path: string = labProfilePath(labDir),
): Promise<{ api: LabManagerClient; profilePath: string }> {
  const kept = await reusableToken(api, path);
  if (kept !== undefined) return { api: api.withToken(kept), profilePath: path };
  const pwFile = initialAdminPasswordFile(managerDataDir);
  if (!existsSync(pwFile)) {
    throw new LabError(LabErrorCode.SETUP_FAILED, `${path} holds no working token and ${pwFile} is gone: log in with vmcrypt login and copy the profile to ${path}`);
  }
  const password = (await readFile(pwFile, 'utf8')).slice(0, MAX_PASSWORD_BYTES).trim();
  const session = await api.post<{ token: string }>('/api/session', { user: LAB_ADMIN_USER, password });
  const loggedIn = api.withToken(session.token);
  const apiToken = await loggedIn.post<{ token: string }>('/api/tokens', { label: 'vmcrypt lab profile', days: 365 });
  await loggedIn.call('DELETE', '/api/session').catch(() => undefined);
  await writeProfile(path, {
    version: 1, managerUrl: new URL(api.url).origin, thumbprint: api.thumbprint, token: apiToken.token, user: LAB_ADMIN_USER, labDir,
  });
  return { api: api.withToken(apiToken.token), profilePath: path };
}
