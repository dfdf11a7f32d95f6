import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { KmsError } from './errors.js';
import { fsyncDir } from '../fs/fsync-dir.js';
import { isGroupOrOtherAccessible, modeString, openPrivateFile } from '../fs/private-files.js';

const SIZE = 32;

/** Creates a new random 256-bit master key file with mode 0600; refuses to overwrite one. */
export async function createMasterKeyFile(path: string): Promise<void> {
  const key = randomBytes(SIZE);
  try {
    const fh = await openPrivateFile(path, 'wx');
    try {
      await fh.writeFile(key);
      await fh.sync();
    } finally {
      await fh.close();
    }
    // Keys sealed under it are useless if a crash loses the file's directory entry.
    await fsyncDir(dirname(path));
  } finally {
    key.fill(0);
  }
}

/** Reads the master key; refuses a file readable or writable by group/others, or of the wrong size. */
export async function loadMasterKey(path: string): Promise<Buffer> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    throw new KmsError('MASTER_KEY_INVALID', `master key file ${path} cannot be read`, { cause: err });
  }
  if (isGroupOrOtherAccessible(st.mode)) {
    throw new KmsError('MASTER_KEY_INVALID', `master key file ${path} has mode ${modeString(st.mode)}; it must be 600`);
  }
  if (st.size !== SIZE) throw new KmsError('MASTER_KEY_INVALID', `master key file ${path} must hold exactly ${SIZE} bytes`);
  const key = await readFile(path);
  if (key.length !== SIZE) {
    key.fill(0);
    throw new KmsError('MASTER_KEY_INVALID', `master key file ${path} must hold exactly ${SIZE} bytes`);
  }
  return key;
}
