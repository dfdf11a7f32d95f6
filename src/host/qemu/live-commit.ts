import { randomBytes } from 'node:crypto';
import { HostError } from '../errors.js';
import type { QmpClient, QmpEvent } from './qmp.js';

/** How long an active commit of a temporary overlay may take (it holds only recent writes). */
export const LIVE_COMMIT_TIMEOUT_MS = 10 * 60_000;

/**
 * Merges a running disk's active overlay (`top`) into the node below it (`base`) and makes
 * `base` the active node again (QMP block-commit as an "active commit": it turns into a
 * mirror that is READY once in sync, then block-job-complete pivots). QEMU already holds the
 * keys of both nodes, so no secret moves. Ends with the job gone, or throws with QEMU's error.
 */
export async function liveCommitActive(qmp: QmpClient, top: string, base: string, timeoutMs = LIVE_COMMIT_TIMEOUT_MS): Promise<void> {
  const jobId = `commit-${randomBytes(4).toString('hex')}`;
  let settle: ((e: QmpEvent) => void) | undefined;
  const ended = new Promise<QmpEvent>((res) => (settle = res));
  const ready = new Promise<void>((res) => {
    const off = qmp.onEvent((e) => {
      const data = (e.data ?? {}) as Record<string, unknown>;
      if (data['device'] !== jobId) return;
      if (e.event === 'BLOCK_JOB_READY') res();
      if (e.event === 'BLOCK_JOB_COMPLETED' || e.event === 'BLOCK_JOB_CANCELLED' || e.event === 'BLOCK_JOB_ERROR') {
        off();
        settle?.(e);
        res();
      }
    });
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new HostError('HOST_QMP_FAILED', `live commit of ${top} did not finish in time`)), timeoutMs);
  });
  try {
    await qmp.execute('block-commit', { 'job-id': jobId, device: top, 'base-node': base });
    await Promise.race([ready, timeout]);
    await qmp.execute('block-job-complete', { device: jobId }).catch(() => undefined);
    const e = await Promise.race([ended, timeout]);
    const data = (e.data ?? {}) as Record<string, unknown>;
    if (e.event !== 'BLOCK_JOB_COMPLETED' || typeof data['error'] === 'string') {
      throw new HostError('HOST_QMP_FAILED', `live commit of ${top} failed: ${typeof data['error'] === 'string' ? data['error'] : e.event}`);
    }
  } finally {
    clearTimeout(timer);
  }
}
