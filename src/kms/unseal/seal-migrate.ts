import { open, readFile, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir } from '../../fs/fsync-dir.js';
import { writePrivateFile } from '../../fs/private-files.js';
import type { KmsPaths } from '../data-dir.js';
import { KmsError } from '../errors.js';
import { loadMasterKey } from '../master-key.js';
import { sealCaKey } from './ca-key.js';
import { writeAutoUnsealFile } from './auto-unseal-file.js';
import { newKey, writeSealedMaster } from './sealed-master.js';
import { splitUnsealKey } from './shares.js';
import { masterKeyKind } from './unlock.js';

/** Overwrites a file with zeros, syncs, then unlinks it (best effort against a later undelete). */
async function shred(path: string): Promise<void> {
  const st = await stat(path);
  const fh = await open(path, 'r+');
  try {
    await fh.write(Buffer.alloc(st.size), 0, st.size, 0);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await unlink(path);
}

/**
 * Converts a data directory with a clear `master.key` (and `pki/ca.key`) to the sealed form:
 * a new unseal key split into shares, the SAME master key sealed under it (every stored key and
 * record tag stays valid), the CA key sealed under the master key, the clear files shredded.
 * Crash-safe: the sealed files are complete and synced before anything clear is removed, and a
 * data dir with both forms is read as sealed. The KMS must not be running.
 */
export async function sealMigrate(paths: KmsPaths, shares: number, threshold: number, autoUnsealFile?: string): Promise<string[]> {
  const kind = await masterKeyKind(paths);
  if (kind !== 'clear') throw new KmsError('CONFIG_INVALID', kind === 'sealed' ? `${paths.dataDir} is already sealed` : `${paths.dataDir} has no master key`);
  const master = await loadMasterKey(paths.masterKey);
  const unsealKey = newKey();
  try {
    const out = await splitUnsealKey(unsealKey, shares, threshold);
    const caClear = await stat(paths.caKey).then(() => true, () => false);
    if (caClear) {
      const pem = await readFile(paths.caKey, 'utf8');
      await writePrivateFile(paths.caKeySealed, sealCaKey(master, pem).toString('base64') + '\n');
      await fsyncDir(dirname(paths.caKeySealed));
    }
    if (autoUnsealFile !== undefined) await writeAutoUnsealFile(autoUnsealFile, unsealKey);
    await writeSealedMaster(paths.masterSealed, master, unsealKey, shares, threshold);
    if (caClear) await shred(paths.caKey);
    await shred(paths.masterKey);
    await fsyncDir(paths.dataDir);
    return out;
  } finally {
    master.fill(0);
    unsealKey.fill(0);
  }
}
