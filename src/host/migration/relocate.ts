import { HostError } from '../errors.js';
import type { HostVms } from '../vm/host-vms.js';

/** Storage migration (see docs/host.md "Migration"). */
export async function relocateVm(vms: HostVms, uuid: string, datastore: string): Promise<{ vmxPath: string; bytes: number; seconds: number }> {
  vms.inventory.vmxOf(uuid);
  throw new HostError('HOST_MIGRATION_FAILED', `relocate of ${uuid} to ${datastore} not implemented yet`);
}
