import { randomBytes } from 'node:crypto';
import type { BulkResult, RekeyDiskOptions } from './types.js';
import { DiskError } from './errors.js';
import { writeAtomically } from '../fs/atomic-file.js';
import { allocatedBytes, cleanStale, openSource } from './preflight.js';
import { ensureFreeSpace } from './space.js';
import { checkDek, checkIterations } from './options.js';
import { MASTER_KEY_BYTES, SECTOR } from './luks1/constants.js';
import { keyMaterialSectors, serializeHeader } from './luks1/header.js';
import { fillKeyslot, newHeader, passphraseFromDek } from './luks1/keyslot.js';
import { readHeader, unlock, writeHeader } from './luks1/file.js';
import { writeAt } from '../fs/positional-io.js';
import { XtsPool } from './bulk/pool.js';
import { runBulk } from './bulk/engine.js';
import { constantTimeEqual, zero } from '../crypto/guards.js';
import { withDiskLock } from './lock.js';
import { refuseUnfinished } from './inplace/guard.js';

/**
 * shallow: the master key stays, only the keyslot passphrase changes (new DEK), in place and
 * O(1) in the disk size. Crash-safe by ordering, like `cryptsetup luksChangeKey`: the new keyslot
 * is written and synced before the old ones are disabled, so at every instant the old or the new
 * key opens the disk.
 * deep: new master key; every written sector is re-encrypted into a new file beside the old one,
 * which then replaces it atomically. Never-written (all-zero) chunks stay holes.
 */
export async function rekeyDisk(opts: RekeyDiskOptions): Promise<BulkResult> {
  checkDek(opts.oldDek, 'old key');
  checkDek(opts.newDek, 'new key');
  const iterations = checkIterations(opts.iterations);
  if (constantTimeEqual(opts.oldDek, opts.newDek)) throw new DiskError('DISK_BAD_INPUT', 'the new key is the same as the old key');
  if (opts.mode !== 'shallow' && opts.mode !== 'deep') throw new DiskError('DISK_BAD_INPUT', `unknown rekey mode ${String(opts.mode)}`);
  return withDiskLock(opts.path, opts.onNotice, () =>
    opts.mode === 'shallow' ? shallow(opts, iterations) : recrypt({ ...opts, src: opts.path, dst: opts.path }, iterations),
  );
}

async function shallow(opts: RekeyDiskOptions, iterations: number): Promise<BulkResult> {
  const started = performance.now();
  const fh = await openSource(opts.path, 'r+');
  try {
    await refuseUnfinished(opts.path, fh);
    const { header: h } = await readHeader(fh);
    const { mk } = await unlock(fh, h, opts.oldDek);
    const passphrase = passphraseFromDek(opts.newDek);
    try {
      const free = h.keyslots.findIndex((k) => !k.active);
      if (free === -1) throw new DiskError('DISK_NO_KEYSLOT', 'all 8 keyslots are in use; no room for the new key');
      // 1. new keyslot, synced: from here both keys open the disk.
      const material = fillKeyslot(h, free, mk, passphrase, iterations);
      await writeHeader(fh, h, new Map([[free, material]]));
      await fh.sync();
      // 2. every other keyslot disabled, synced: from here only the new key opens it.
      const retired = h.keyslots.map((k, i) => (k.active && i !== free ? i : -1)).filter((i) => i >= 0);
      const areas = retired.map((i) => h.keyslots[i]!.keyMaterialOffset);
      for (const i of retired) h.keyslots[i] = { ...h.keyslots[i]!, active: false, iterations: 0, salt: Buffer.alloc(32) };
      await writeAt(fh, serializeHeader(h), 0);
      await fh.sync();
      // 3. wipe the retired key material (anti-forensics: the old key must not recover the master key).
      const wipe = Buffer.alloc(keyMaterialSectors(h.keyBytes, 4000) * SECTOR);
      for (const off of areas) await writeAt(fh, randomBytes(wipe.length), off * SECTOR);
      await fh.sync();
      opts.onProgress?.({ phase: 'rekey', doneBytes: 0, totalBytes: 0 });
      return { bytes: 0, holeBytes: 0, seconds: (performance.now() - started) / 1000 };
    } finally {
      zero(mk, passphrase);
    }
  } finally {
    await fh.close();
  }
}

/**
 * Re-encrypts every written sector of `src` under a new master key into `dst` (a new file beside
 * it, renamed into place). dst === src is a deep rekey; another path is a clone with a new key.
 */
export async function recrypt(
  opts: Omit<RekeyDiskOptions, 'path' | 'mode'> & { src: string; dst: string },
  iterations: number,
): Promise<BulkResult> {
  const started = performance.now();
  const src = await openSource(opts.src);
  try {
    await refuseUnfinished(opts.src, src);
    const { header: old, fileSize } = await readHeader(src);
    const { mk: oldMk } = await unlock(src, old, opts.oldDek);
    const newMk = randomBytes(MASTER_KEY_BYTES);
    const passphrase = passphraseFromDek(opts.newDek);
    try {
      const oldPayload = old.payloadOffset * SECTOR;
      const size = fileSize - oldPayload;
      await cleanStale(opts.dst, opts.onNotice);
      const h = newHeader(newMk);
      const payload = h.payloadOffset * SECTOR;
      await ensureFreeSpace(opts.dst, payload + Math.min(size, await allocatedBytes(opts.src)));
      // Workers boot while PBKDF2, the AF split and the header write run.
      const pool = XtsPool.borrow({ srcKey: oldMk, dstKey: newMk });
      let ok = false;
      try {
        const material = fillKeyslot(h, 0, newMk, passphrase, iterations);
        const mode = (await src.stat()).mode & 0o7777;
        const result = await writeAtomically(opts.dst, async (out) => {
          await out.chmod(mode);
          await writeHeader(out, h, new Map([[0, material]]));
          await out.truncate(payload + size);
          return runBulk({
            pool, op: 'reencrypt', phase: 'rekey', src, srcBase: oldPayload, dst: out, dstBase: payload, length: size,
            holesInSource: true, onProgress: opts.onProgress, closePool: true,
          });
        });
        ok = true;
        return { ...result, seconds: (performance.now() - started) / 1000 };
      } finally {
        // Kept (keyless, idle) for the next operation of this process only after a clean one.
        await (ok ? pool.release() : pool.close());
      }
    } finally {
      zero(oldMk, newMk, passphrase);
    }
  } finally {
    await src.close();
  }
}
