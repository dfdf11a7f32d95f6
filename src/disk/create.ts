import type { CreateDiskOptions, DiskInfo } from './types.js';
import { DiskError } from './errors.js';
export async function createEncryptedDisk(_opts: CreateDiskOptions): Promise<DiskInfo> {
  throw new DiskError('DISK_BAD_INPUT', 'not implemented yet');
}
