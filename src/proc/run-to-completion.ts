import { ProcessError, ProcessErrorCode } from './errors.js';
import { describeExit, startChild, type ChildOptions } from './supervisor.js';

/** Runs a short-lived child to its end; resolves with its kept output, rejects (PROC_FAILED, with the tail) unless it exits 0. */
export async function runToCompletion(opts: ChildOptions): Promise<string> {
  const c = startChild(opts);
  const s = await c.exited;
  if (s.error !== undefined) throw new ProcessError(ProcessErrorCode.START_FAILED, `cannot start ${opts.name}: ${s.error.message}`, '', { cause: s.error });
  if (s.code !== 0) throw new ProcessError(ProcessErrorCode.FAILED, `${opts.name} failed (${describeExit(s)})`, c.output().slice(-2000));
  return c.output();
}
