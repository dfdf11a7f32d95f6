import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import { initDataDir, kmsPaths } from '../../kms/data-dir.js';
import { sealMigrate } from '../../kms/unseal/seal-migrate.js';
import { masterKeyKind } from '../../kms/unseal/unlock.js';
import { writePrivateFile } from '../../fs/private-files.js';
import { LabError, LabErrorCode } from './errors.js';

export const LAB_SHARES = 5;
export const LAB_THRESHOLD = 3;

/** What unseals a lab's KMS. Both live OUTSIDE the KMS data dir: a copy of that dir alone opens nothing. */
export interface LabSealFiles {
  /** The unseal key the lab's KMS processes read at start (`kms serve --auto-unseal-file`). */
  readonly autoUnsealFile: string;
  /** The 5 Shamir shares, kept so the lab's unseal and disaster-drill steps can be tried. */
  readonly sharesFile: string;
}

export function labSealFiles(labDir: string, mode: 'single' | 'cluster'): LabSealFiles {
  return {
    // the cluster's file is where `kms cluster up` reads it (beside, not inside, its data dir)
    autoUnsealFile: mode === 'single' ? join(labDir, 'kms-unseal.key') : join(labDir, 'kms-cluster', 'unseal.key'),
    sharesFile: join(labDir, 'kms-unseal-shares.txt'),
  };
}

function sharesText(dataDir: string, sharesFile: string, shares: readonly string[]): string {
  return [
    '# vmcrypt lab: the unseal shares of this lab\'s KMS (3 of 5 unseal it).',
    '# A LAB IS NOT PRODUCTION. A real KMS shows its shares once (vmcrypt kms init) to five different',
    '# key holders; they are never written down next to the server, and it has no auto-unseal file.',
    '# The lab keeps them here, beside its auto-unseal file, so it restarts by itself and the unseal',
    '# and disaster-drill steps of docs/lab.md can be tried, e.g.:',
    `#   grep -v '^#' ${sharesFile} | head -3 | vmcrypt kms unseal --data ${dataDir}`,
    ...shares,
    '',
  ].join('\n');
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/**
 * The lab's KMS data dir, sealed: created sealed on the first run, converted (same master key,
 * same keys) when an older lab kept its master key in clear, reused as it is otherwise.
 */
export async function ensureSealedLabKms(dataDir: string, files: LabSealFiles, log: (line: string) => void): Promise<void> {
  const kind = await masterKeyKind(kmsPaths(dataDir));
  let shares: readonly string[] | undefined;
  if (kind === 'none') {
    shares = (await initDataDir(dataDir, { seal: { shares: LAB_SHARES, threshold: LAB_THRESHOLD, autoUnsealFile: files.autoUnsealFile } })).shares;
  } else if (kind === 'clear') {
    shares = await sealMigrate(kmsPaths(dataDir), LAB_SHARES, LAB_THRESHOLD, files.autoUnsealFile);
    log(`lab: the KMS master key in ${dataDir} was in clear; it is sealed now (same key, same keys)`);
  } else if (!(await exists(files.autoUnsealFile))) {
    throw new LabError(LabErrorCode.START_FAILED, `the lab's KMS in ${dataDir} is sealed but its auto-unseal file ${files.autoUnsealFile} is missing: unseal it by hand (vmcrypt kms unseal, shares in ${files.sharesFile}) or use another --dir`);
  }
  if (shares !== undefined) await writePrivateFile(files.sharesFile, sharesText(dataDir, files.sharesFile, shares));
}
