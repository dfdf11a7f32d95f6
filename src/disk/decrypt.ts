import type { BulkResult, DecryptDiskOptions } from './types.js';
import { writeAtomically } from '../fs/atomic-file.js';
import { allocatedBytes, cleanStale, ensureAbsent, openSource } from './preflight.js';
import { ensureFreeSpace } from './space.js';
import { checkDek } from './options.js';
import { SECTOR } from './luks1/constants.js';
import { readHeader, unlock } from './luks1/file.js';
import { XtsPool } from './bulk/pool.js';
import { runBulk } from './bulk/engine.js';
import { zero } from '../crypto/guards.js';
import { withDiskLock } from './lock.js';
import { refuseUnfinished } from './inplace/guard.js';

/**
 * LUKS1 → raw. Holes stay holes: a chunk whose ciphertext is all zeros was never written and a
 * chunk whose plaintext is all zeros is not written either, so the raw file stays sparse.
 */
export async function decryptDisk(opts: DecryptDiskOptions): Promise<BulkResult> {
  checkDek(opts.dek, 'dek');
  return withDiskLock(opts.dst, opts.onNotice, () => decryptLocked(opts));
}

async function decryptLocked(opts: DecryptDiskOptions): Promise<BulkResult> {
  const started = performance.now();
  const src = await openSource(opts.src);
  try {
    await refuseUnfinished(opts.src, src);
    const { header: h, fileSize } = await readHeader(src);
    const { mk } = await unlock(src, h, opts.dek);
    // Workers boot while the checks and the new file's creation run.
    const pool = XtsPool.borrow({ srcKey: mk });
    let ok = false;
    try {
      const payload = h.payloadOffset * SECTOR;
      const size = fileSize - payload;
      await ensureAbsent(opts.dst);
      await cleanStale(opts.dst, opts.onNotice);
      await ensureFreeSpace(opts.dst, Math.min(size, await allocatedBytes(opts.src)));
      const result = await writeAtomically(opts.dst, async (out) => {
        await out.truncate(size);
        return runBulk({
          pool, op: 'decrypt', phase: 'decrypt', src, srcBase: payload, dst: out, dstBase: 0, length: size,
          holesInSource: true, onProgress: opts.onProgress, closePool: true,
        });
      });
      ok = true;
      return { ...result, seconds: (performance.now() - started) / 1000 };
    } finally {
      zero(mk);
      // Kept (keyless, idle) for the next operation of this process only after a clean one.
      await (ok ? pool.release() : pool.close());
    }
  } finally {
    await src.close();
  }
}
