import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir } from '../../fs/fsync-dir.js';
import { isGroupOrOtherAccessible, modeString, openPrivateFile } from '../../fs/private-files.js';
import { KmsError } from '../errors.js';
import { UNSEAL_KEY_BYTES } from './shares.js';

/**
 * The unseal key in a file (64 hex digits), for labs and tests: `kms serve --auto-unseal-file F`
 * unseals at start without shares. WEAKER than shares: whoever reads F and the data directory
 * has every key. Keep F on another medium than the data dir (a mounted secret, a TPM-sealed
 * file) if you use it outside a lab.
 */
export async function writeAutoUnsealFile(path: string, unsealKey: Buffer): Promise<void> {
  const fh = await openPrivateFile(path, 'wx');
  try {
    await fh.writeFile(`${unsealKey.toString('hex')}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsyncDir(dirname(path));
}

/** The unseal key (caller zeroes it); refuses a file that group/others can access. */
export async function readAutoUnsealFile(path: string): Promise<Buffer> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    throw new KmsError('MASTER_KEY_INVALID', `auto-unseal file ${path} cannot be read`, { cause: err });
  }
  if (isGroupOrOtherAccessible(st.mode)) throw new KmsError('MASTER_KEY_INVALID', `auto-unseal file ${path} has mode ${modeString(st.mode)}; it must be 600`);
  if (st.size > 256) throw new KmsError('MASTER_KEY_INVALID', `auto-unseal file ${path} is too large`);
  const raw = await readFile(path);
  try {
    const hex = raw.toString('latin1').trim();
    if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new KmsError('MASTER_KEY_INVALID', `auto-unseal file ${path} must hold ${UNSEAL_KEY_BYTES * 2} hex digits`);
    return Buffer.from(hex, 'hex');
  } finally {
    raw.fill(0);
  }
}
