import type { BulkResult, DecryptDiskOptions } from './types.js';
import { DiskError } from './errors.js';
export async function decryptDisk(_opts: DecryptDiskOptions): Promise<BulkResult> {
  throw new DiskError('DISK_BAD_INPUT', 'not implemented yet');
}
