import type { BulkResult, EncryptDiskOptions } from './types.js';
import { DiskError } from './errors.js';
export async function encryptDisk(_opts: EncryptDiskOptions): Promise<BulkResult> {
  throw new DiskError('DISK_BAD_INPUT', 'not implemented yet');
}
