import type { BulkResult, RekeyDiskOptions } from './types.js';
import { DiskError } from './errors.js';
export async function rekeyDisk(_opts: RekeyDiskOptions): Promise<BulkResult> {
  throw new DiskError('DISK_BAD_INPUT', 'not implemented yet');
}
