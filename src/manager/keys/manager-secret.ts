import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomicallySync } from '../../fs/atomic-file.js';
import { makePrivateDirSync } from '../../fs/private-files.js';
import { ManagerError } from '../errors.js';

const SECRET_BYTES = 32;

/**
 * The manager's own 32-byte secret that seals the key providers' client private keys in the
 * database (AES-256-GCM, src/pki/seal.ts). A 0600 file in a 0700 folder of the data dir,
 * made at first start. It never seals or holds a KEK: KEK bytes are never written anywhere.
 * The caller zeroes the returned buffer when the manager stops.
 */
export function loadManagerSecret(dataDir: string): Buffer {
  const dir = join(dataDir, 'keys');
  makePrivateDirSync(dir, { tighten: true });
  const file = join(dir, 'provider-trust.secret');
  try {
    const buf = readFileSync(file);
    if (buf.length !== SECRET_BYTES) {
      buf.fill(0);
      throw new ManagerError('MANAGER_INTERNAL', `${file} is not a ${SECRET_BYTES}-byte secret`);
    }
    return buf;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secret = randomBytes(SECRET_BYTES);
  try {
    writeAtomicallySync(file, secret);
  } catch (err) {
    secret.fill(0);
    throw err;
  }
  return secret;
}
