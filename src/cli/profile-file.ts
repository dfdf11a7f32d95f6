import { open, rename, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { VmcryptError } from '../errors.js';
import { makePrivateDir, writePrivateFile } from '../fs/private-files.js';
import { tempPathFor } from '../fs/atomic-file.js';
import { MAX_PROFILE_BYTES, parseProfile, type CliProfile } from './profile.js';

/** ~/.config/vmcrypt/profile.json (XDG_CONFIG_HOME honoured): where `vmcrypt login` writes. */
export function defaultProfilePath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'vmcrypt', 'profile.json');
}

/** `--profile FILE`, else `VMCRYPT_PROFILE`, else the default. */
export function profilePath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag !== undefined && flag !== '') return resolve(flag);
  const fromEnv = env.VMCRYPT_PROFILE;
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  return defaultProfilePath(env);
}

/** Reads and validates a profile, bounded to MAX_PROFILE_BYTES. */
export async function readProfile(path: string): Promise<CliProfile> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new VmcryptError('NOT_LOGGED_IN', `no profile at ${path}: log in first (vmcrypt login URL --user NAME), or pass --profile FILE`);
    }
    throw new VmcryptError('PROFILE_INVALID', `cannot read profile ${path}: ${(err as Error).message}`);
  }
  try {
    const buf = Buffer.alloc(MAX_PROFILE_BYTES + 1);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    if (bytesRead > MAX_PROFILE_BYTES) throw new VmcryptError('PROFILE_INVALID', `${path}: larger than ${MAX_PROFILE_BYTES} bytes, not a profile`);
    let doc: unknown;
    try {
      doc = JSON.parse(buf.subarray(0, bytesRead).toString('utf8'));
    } catch {
      throw new VmcryptError('PROFILE_INVALID', `${path}: not JSON (run vmcrypt login again)`);
    }
    return parseProfile(doc, path);
  } finally {
    await fh.close();
  }
}

/** Writes a profile with mode 0600 (its directory 0700 if created), replacing any old one atomically. */
export async function writeProfile(path: string, profile: CliProfile): Promise<void> {
  await makePrivateDir(dirname(path));
  const tmp = tempPathFor(path);
  try {
    await writePrivateFile(tmp, JSON.stringify(profile, null, 2) + '\n', { exclusive: true });
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** Removes a profile; false if there was none. */
export async function removeProfile(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
