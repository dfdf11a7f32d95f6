import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DiskError } from './errors.js';
import { formatBytes } from './units.js';

/** Headroom kept free beyond the new file (metadata, temp header): 16 MiB. */
const MARGIN = 16 << 20;

/**
 * The "twice the space" rule (seeds: encrypting/decrypting needs twice the disk size while the
 * old and new files coexist): the old file is already there, so the filesystem of `target`
 * must have room for the whole new file. Refuses with DISK_NO_SPACE before anything is written.
 */
export async function ensureFreeSpace(target: string, neededBytes: number): Promise<void> {
  const st = await statfs(dirname(target));
  const free = Number(st.bavail) * Number(st.bsize);
  if (free < neededBytes + MARGIN) {
    throw new DiskError(
      'DISK_NO_SPACE',
      `not enough free space in ${dirname(target)}: need ${formatBytes(neededBytes + MARGIN)} for the new file, ${formatBytes(free)} free`,
    );
  }
}
