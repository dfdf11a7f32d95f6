import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PRIVATE_FILE_MODE } from '../../fs/private-files.js';
import { vmcryptSelfArgv } from './children.js';
import { LabError, LabErrorCode } from './errors.js';
import { readLabState, type LabState } from './state.js';

const LOG_TAIL_CHARS = 2000;

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-LOG_TAIL_CHARS);
  } catch {
    return '';
  }
}

/**
 * `lab up --detach`: the same `lab up` in a new session (no terminal, no parent to die with),
 * its output in DIR/lab.log; returns once DIR/lab.json says that lab is ready.
 */
export async function startDetachedLab(dir: string, upArgs: readonly string[], timeoutMs: number): Promise<{ pid: number; log: string; state: LabState }> {
  const log = join(dir, 'lab.log');
  const fd = openSync(log, 'a', PRIVATE_FILE_MODE);
  let child;
  try {
    child = spawn(process.execPath, [...vmcryptSelfArgv(), 'lab', 'up', ...upArgs], { detached: true, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid ?? -1;
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = signal ?? String(code)));
  child.once('error', (e) => (exited = e.message));
  child.unref();
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (exited !== undefined) throw new LabError(LabErrorCode.START_FAILED, `the lab exited (${exited}); ${log} ends with:\n${tail(log)}`);
    const state = await readLabState(dir).catch(() => undefined);
    if (state?.run?.pid === pid && state.run.state === 'ready') return { pid, log, state };
    if (Date.now() > end) throw new LabError(LabErrorCode.START_FAILED, `the lab (pid ${pid}) is not ready after ${timeoutMs} ms; see ${log}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
