import { randomBytes } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { KmsError } from './errors.js';
import { fsyncDir } from '../fs/atomic-file.js';

const SIZE = 32;

/** Creates a new random 256-bit master key file with mode 0600; refuses to overwrite one. */
export async function createMasterKeyFile(path: string): Promise<void> {
  const key = randomBytes(SIZE);
  try {
    const fh = await open(path, 'wx', 0o600);
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
  if ((st.mode & 0o077) !== 0) {
    throw new KmsError('MASTER_KEY_INVALID', `master key file ${path} has mode ${(st.mode & 0o777).toString(8)}; it must be 600`);
  }
  if (st.size !== SIZE) throw new KmsError('MASTER_KEY_INVALID', `master key file ${path} must hold exactly ${SIZE} bytes`);
  const key = await readFile(path);
  if (key.length !== SIZE) {
    key.fill(0);
    throw new KmsError('MASTER_KEY_INVALID', `master key file ${path} must hold exactly ${SIZE} bytes`);
  }
  return key;
}
