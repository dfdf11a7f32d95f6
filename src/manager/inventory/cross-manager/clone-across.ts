import { randomUUID } from 'node:crypto';
import { vmRef, type Principal, type TaskInfo } from '../../contracts.js';
import { ManagerError, managerErrorHttpStatus, type ManagerErrorCode } from '../../errors.js';
import type { CloneRequest } from '../ops/copy-ops.js';
import type { MigrateDeps } from '../ops/migrate-plan.js';
import type { AcrossRequest, OutgoingMigrations } from './outgoing.js';

/**
 * Clone to another manager (seed 001: "when cloning across vCenter Server instances we can
 * encrypt, decrypt or recrypt the destination VM", source powered on or off): the copy is made
 * here by the source's host on the shared datastore (keep / encrypt / decrypt / recrypt, every
 * rule of a local clone), then moves to the destination manager powered off, as a cold
 * cross-manager migration of the copy. A copy that could not move stays here, named in the error.
 */
const codeOf = (c: unknown): ManagerErrorCode => (typeof c === 'string' && c in managerErrorHttpStatus ? (c as ManagerErrorCode) : 'MANAGER_INTERNAL');

export async function cloneAcross(
  d: MigrateDeps,
  outgoing: OutgoingMigrations,
  cloneHere: (vmId: string, req: CloneRequest, who: Principal) => Promise<TaskInfo>,
  vmId: string,
  req: Omit<CloneRequest, 'hostId'> & AcrossRequest,
  who: Principal,
): Promise<TaskInfo> {
  if (req.host === '') throw new ManagerError('MANAGER_BAD_REQUEST', 'body.host: a clone to another manager names the host there');
  const local = await cloneHere(vmId, {
    name: req.name, ...(req.datastoreId === undefined ? {} : { datastoreId: req.datastoreId }),
    ...(req.policyId === undefined ? {} : { policyId: req.policyId }), ...(req.recrypt === undefined ? {} : { recrypt: req.recrypt }),
  }, who);
  return d.tasks.start({ kind: 'vm.cloneToManager', entity: vmRef(vmId), user: who.user }, async (progress) => {
    progress.update({ percent: 5, message: `cloning here first (task ${local.id})` });
    const done = await d.tasks.wait(local.id);
    if (done.state !== 'success') throw new ManagerError(codeOf(done.error?.code), `the clone failed: ${done.error?.message ?? 'unknown error'}`);
    const copyId = (done.result as { vmId?: unknown } | undefined)?.vmId;
    if (typeof copyId !== 'string') throw new ManagerError('MANAGER_INTERNAL', 'the clone task named no VM');
    const migrationId = randomUUID();
    d.migrating.begin(copyId, { migrationId, vmName: req.name, to: `manager ${req.manager.url}`, startedAt: new Date().toISOString() });
    try {
      progress.update({ percent: 50, message: `moving the copy ${req.name} to manager ${req.manager.url}` });
      const out = await outgoing.run(copyId, migrationId, 'clone', req, who, progress);
      return { ...out, cloneTaskId: local.id, name: req.name };
    } catch (err) {
      throw new ManagerError(codeOf((err as { code?: unknown }).code), `the copy ${req.name} (${copyId}) was made here but did not move: ${(err as Error).message}`);
    } finally {
      d.migrating.end(copyId, migrationId);
    }
  });
}
