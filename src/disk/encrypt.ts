import { randomBytes } from 'node:crypto';
import type { BulkResult, EncryptDiskOptions } from './types.js';
import { DiskError } from './errors.js';
import { writeAtomically } from '../fs/atomic-file.js';
import { cleanStale, ensureAbsent, openSource } from './preflight.js';
import { ensureFreeSpace } from './space.js';
import { checkDek, checkIterations } from './options.js';
import { MASTER_KEY_BYTES, SECTOR } from './luks1/constants.js';
import { fillKeyslot, newHeader, passphraseFromDek } from './luks1/keyslot.js';
import { writeHeader } from './luks1/file.js';
import { XtsPool } from './bulk/pool.js';
import { runBulk } from './bulk/engine.js';
import { zero } from '../crypto/guards.js';
import { withDiskLock } from './lock.js';
import { refuseUnfinished } from './inplace/guard.js';

/**
 * raw → LUKS1. Every sector is encrypted, zeros included: a hole in a LUKS payload would read
 * as pseudo-random garbage through the cipher, not as the zeros the raw image held.
 */
export async function encryptDisk(opts: EncryptDiskOptions): Promise<BulkResult> {
  checkDek(opts.dek, 'dek');
  return withDiskLock(opts.dst, opts.onNotice, () => encryptLocked(opts));
}

async function encryptLocked(opts: EncryptDiskOptions): Promise<BulkResult> {
  const iterations = checkIterations(opts.iterations);
  const started = performance.now();
  const src = await openSource(opts.src);
  try {
    await refuseUnfinished(opts.src, src);
    const size = (await src.stat()).size;
    if (size === 0 || size % SECTOR !== 0) {
      throw new DiskError('DISK_BAD_INPUT', `${opts.src}: size ${size} is not a positive multiple of 512 bytes`);
    }
    await ensureAbsent(opts.dst);
    await cleanStale(opts.dst, opts.onNotice);
    const mk = randomBytes(MASTER_KEY_BYTES);
    const passphrase = passphraseFromDek(opts.dek);
    try {
      const h = newHeader(mk);
      const payload = h.payloadOffset * SECTOR;
      await ensureFreeSpace(opts.dst, payload + size);
      // Workers boot while PBKDF2, the AF split and the header write run.
      const pool = XtsPool.borrow({ dstKey: mk });
      let ok = false;
      try {
        const material = fillKeyslot(h, 0, mk, passphrase, iterations);
        const result = await writeAtomically(opts.dst, async (out) => {
          await writeHeader(out, h, new Map([[0, material]]));
          await out.truncate(payload + size);
          return runBulk({
            pool, op: 'encrypt', phase: 'encrypt', src, srcBase: 0, dst: out, dstBase: payload, length: size,
            holesInSource: false, onProgress: opts.onProgress, closePool: true,
          });
        });
        ok = true;
        return { ...result, seconds: (performance.now() - started) / 1000 };
      } finally {
        // Kept (keyless, idle) for the next operation of this process only after a clean one.
        await (ok ? pool.release() : pool.close());
      }
    } finally {
      zero(mk, passphrase);
    }
  } finally {
    await src.close();
  }
}
