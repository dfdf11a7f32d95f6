import type { DiskInfo } from './types.js';
import { DiskError } from './errors.js';
export async function diskInfo(_path: string): Promise<DiskInfo> {
  throw new DiskError('DISK_BAD_INPUT', 'not implemented yet');
}
