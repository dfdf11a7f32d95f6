import type { TaskInfo } from '../manager-client/records.js';
import { renderProgressLine } from './progress-bar.js';

export interface ProgressSink {
  write(chunk: string): unknown;
  readonly columns?: number;
}

/**
 * Draws a task's progress on one terminal line (stderr), redrawn in place with \r, finished
 * with a newline. Only made when stdout and stderr are terminals: scripts and pipes see nothing.
 */
export function taskProgressDrawer(label: string, sink: ProgressSink, now: () => number = Date.now): { update(t: TaskInfo): void; done(): void } {
  const started = now();
  let drawn = false;
  return {
    update(t) {
      // A terminal that reports no size (0 columns: some ptys, serial consoles) counts as unknown.
      const cols = sink.columns !== undefined && sink.columns > 0 ? sink.columns : 100;
      const line = renderProgressLine(label, t, (now() - started) / 1000, Math.max(10, Math.min(30, cols - 60)));
      sink.write(`\r${line.slice(0, Math.max(20, cols - 1)).padEnd(Math.max(20, cols - 1))}`);
      drawn = true;
    },
    done() {
      if (drawn) sink.write('\n');
    },
  };
}

/** Progress bars only for a person watching: both stdout and stderr on a terminal. */
export function wantsProgress(json: boolean, interactive: boolean, stdoutIsTty: boolean = process.stdout.isTTY === true): boolean {
  return !json && interactive && stdoutIsTty;
}
