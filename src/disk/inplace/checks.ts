import { DiskError } from '../errors.js';
import { SECTOR } from '../luks1/constants.js';
import { FRONT } from './geometry.js';

/** An in-place walk needs whole sectors and more than the 4 KiB front it handles apart. */
export function checkPayload(path: string, size: number): void {
  if (size < 2 * FRONT || size % SECTOR !== 0) {
    throw new DiskError('DISK_BAD_INPUT', `${path}: payload of ${size} bytes is not a multiple of 512 bytes of at least 8 KiB`);
  }
}
