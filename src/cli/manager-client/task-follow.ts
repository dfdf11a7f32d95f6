import { setTimeout as sleep } from 'node:timers/promises';
import { VmcryptError } from '../../errors.js';
import type { ManagerClient } from './client.js';
import type { TaskInfo } from './records.js';
import { seg } from './client.js';

export interface FollowOptions {
  /** Called with every state seen (a progress bar draws it). */
  readonly onProgress?: (t: TaskInfo) => void;
  readonly pollMs?: number;
  /** Injected in tests. */
  readonly wait?: (ms: number) => Promise<unknown>;
}

const MAX_POLL_FAILURES = 5;

/**
 * Polls GET /api/tasks/ID until the task ends. Polling, not SSE: a few hundred bytes every
 * 250 ms costs nothing and survives a manager restart (a lost stream would need reconnect logic).
 */
export async function followTask(c: ManagerClient, id: string, opts: FollowOptions = {}): Promise<TaskInfo> {
  const wait = opts.wait ?? ((ms: number) => sleep(ms));
  let failures = 0;
  for (;;) {
    let t: TaskInfo;
    try {
      t = await c.get<TaskInfo>(`/api/tasks/${seg(id)}`);
      failures = 0;
    } catch (err) {
      // A manager restarting under a long task: keep following for a few polls before giving up.
      if (!(err instanceof VmcryptError) || err.code !== 'MANAGER_UNREACHABLE' || ++failures > MAX_POLL_FAILURES) throw err;
      await wait(1000);
      continue;
    }
    opts.onProgress?.(t);
    if (t.state === 'success' || t.state === 'error') return t;
    await wait(opts.pollMs ?? 250);
  }
}

/** A task that ended in error, as the CLI reports it. */
export function taskFailed(t: TaskInfo): VmcryptError {
  const why = t.error === undefined ? 'no details' : `${t.error.message} (${t.error.code})`;
  return new VmcryptError('TASK_FAILED', `task ${t.id} (${t.kind}) failed: ${why}; see vmcrypt tasks watch ${t.id}`);
}
