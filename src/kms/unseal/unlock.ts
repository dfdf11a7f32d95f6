import { stat } from 'node:fs/promises';
import { KmsError } from '../errors.js';
import { loadMasterKey } from '../master-key.js';
import { readAutoUnsealFile } from './auto-unseal-file.js';
import { openMaster, readSealedMaster, type SealedMasterInfo } from './sealed-master.js';
import { UnsealSession } from './unseal-session.js';

/** How an offline command (issue-client-cert, restore, seal-migrate, rotation) gets the master key. */
export type MasterKeyUnlock = { readonly autoUnsealFile: string } | { readonly shares: readonly string[] };

/** Which master key a data directory holds. */
export type MasterKeyKind = 'sealed' | 'clear' | 'none';

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export async function masterKeyKind(paths: { masterKey: string; masterSealed: string }): Promise<MasterKeyKind> {
  if (await exists(paths.masterSealed)) return 'sealed';
  if (await exists(paths.masterKey)) return 'clear';
  return 'none';
}

/** The master key of a data directory (caller zeroes it): a clear legacy `master.key`, or the sealed one opened. */
export async function unlockMasterKey(paths: { masterKey: string; masterSealed: string }, unlock: MasterKeyUnlock | undefined): Promise<Buffer> {
  const kind = await masterKeyKind(paths);
  if (kind === 'clear') return loadMasterKey(paths.masterKey);
  if (kind === 'none') throw new KmsError('MASTER_KEY_INVALID', `no master key (${paths.masterSealed} or ${paths.masterKey}): is the data directory initialised?`);
  return openMasterWith(await readSealedMaster(paths.masterSealed), unlock);
}

/** Opens a sealed master key with an auto-unseal file or shares; the caller zeroes the result. */
export async function openMasterWith(info: SealedMasterInfo, unlock: MasterKeyUnlock | undefined): Promise<Buffer> {
  if (unlock === undefined) throw new KmsError('SEALED', 'the master key is sealed: give --auto-unseal-file F or the unseal shares (--share …)');
  if ('autoUnsealFile' in unlock) {
    const u = await readAutoUnsealFile(unlock.autoUnsealFile);
    try {
      return openMaster(info, u);
    } finally {
      u.fill(0);
    }
  }
  const session = new UnsealSession(info);
  for (const s of unlock.shares) {
    const r = await session.add(s);
    if (r.unsealed) {
      r.unsealKey.fill(0);
      r.next?.fill(0);
      return r.master;
    }
  }
  session.reset();
  throw new KmsError('UNSEAL_SHARE_INVALID', `${unlock.shares.length} distinct share(s) given; this KMS needs ${info.threshold}`);
}
