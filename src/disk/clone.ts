import type { BulkResult, CloneDiskOptions } from './types.js';
import { DiskError } from './errors.js';
import { checkDek, checkIterations } from './options.js';
import { ensureAbsent } from './preflight.js';
import { withDiskLock } from './lock.js';
import { recrypt } from './rekey.js';
import { constantTimeEqual } from '../crypto/guards.js';

/**
 * Copies an encrypted disk to a new file under a new DEK and a new master key (a clone must not
 * share key material with its origin). Holes stay holes; dst is written atomically.
 */
export async function cloneDisk(opts: CloneDiskOptions): Promise<BulkResult> {
  checkDek(opts.oldDek, 'old key');
  checkDek(opts.newDek, 'new key');
  const iterations = checkIterations(opts.iterations);
  if (constantTimeEqual(opts.oldDek, opts.newDek)) throw new DiskError('DISK_BAD_INPUT', 'a clone needs its own key');
  return withDiskLock(opts.dst, opts.onNotice, async () => {
    await ensureAbsent(opts.dst);
    return recrypt(opts, iterations);
  });
}
