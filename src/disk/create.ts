import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { CreateDiskOptions, DiskInfo } from './types.js';
import { DiskError } from './errors.js';
import { writeAtomically } from '../fs/atomic-file.js';
import { ensureAbsent } from './preflight.js';
import { ensureFreeSpace } from './space.js';
import { checkDek, checkIterations } from './options.js';
import { describe } from './info.js';
import { withDiskLock } from './lock.js';
import { MASTER_KEY_BYTES, SECTOR } from './luks1/constants.js';
import { fillKeyslot, newHeader, passphraseFromDek } from './luks1/keyslot.js';
import { writeHeader } from './luks1/file.js';
import { zero } from '../crypto/guards.js';

/**
 * Creates an empty LUKS1 disk of `sizeBytes` (virtual size), keyslot 0 opened by the DEK's hex.
 * Like `qemu-img create -f luks` the payload is left sparse: never-written sectors read as
 * pseudo-random data through the cipher, not zeros (the guest formats the disk anyway).
 */
export async function createEncryptedDisk(opts: CreateDiskOptions): Promise<DiskInfo> {
  checkDek(opts.dek, 'dek');
  const iterations = checkIterations(opts.iterations);
  if (!Number.isSafeInteger(opts.sizeBytes) || opts.sizeBytes <= 0 || opts.sizeBytes % SECTOR !== 0) {
    throw new DiskError('DISK_BAD_INPUT', 'size must be a positive multiple of 512 bytes');
  }
  // Under the disk lock like every other writer of a disk path: a concurrent encrypt/clone to the
  // same path must not take our temp file for a crash leftover.
  return withDiskLock(opts.path, undefined, () => createLocked(opts, iterations));
}

async function createLocked(opts: CreateDiskOptions, iterations: number): Promise<DiskInfo> {
  await ensureAbsent(opts.path);
  const mk = randomBytes(MASTER_KEY_BYTES);
  const passphrase = passphraseFromDek(opts.dek);
  try {
    const h = newHeader(mk);
    await ensureFreeSpace(opts.path, h.payloadOffset * SECTOR);
    const material = fillKeyslot(h, 0, mk, passphrase, iterations);
    await writeAtomically(opts.path, async (fh) => {
      await writeHeader(fh, h, new Map([[0, material]]));
      await fh.truncate(h.payloadOffset * SECTOR + opts.sizeBytes);
    });
    const st = await stat(opts.path);
    return describe(opts.path, h, st.size, st.blocks * 512);
  } finally {
    zero(mk, passphrase);
  }
}
