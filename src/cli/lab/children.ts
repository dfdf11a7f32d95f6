import { createWriteStream, type WriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PRIVATE_FILE_MODE } from '../../fs/private-files.js';
import { startChild, type SupervisedChild } from '../../proc/supervisor.js';
import { LabError, LabErrorCode } from './errors.js';

/**
 * How to run this same CLI in a child: run.ts through tsx when we run from the sources (tests),
 * run.js beside the compiled code otherwise (`npm start`).
 */
export function vmcryptSelfArgv(): string[] {
  const here = fileURLToPath(import.meta.url);
  const cliDir = dirname(dirname(here));
  return here.endsWith('.ts') ? ['--import', 'tsx', join(cliDir, 'run.ts')] : [join(cliDir, 'run.js')];
}

/** A started component of the lab; `log` is DIR/logs/NAME.log (0600, appended). */
export interface LabChild {
  readonly name: string;
  readonly child: SupervisedChild;
  readonly match: RegExpExecArray;
  stop(): Promise<void>;
}

export interface ComponentSpec {
  readonly name: string;
  /** vmcrypt arguments: `manager serve --data …`. */
  readonly args: readonly string[];
  readonly ready: RegExp;
  readonly logDir: string;
  readonly readyTimeoutMs?: number;
  /** SIGTERM grace before SIGKILL (an agent powers its VMs off first). */
  readonly stopGraceMs?: number;
}

const OUTPUT_LIMIT = 32 * 1024;

/**
 * Starts `vmcrypt …` through the one supervisor: its own process, dying with the lab even when
 * the lab is SIGKILLed (pdeathsig), its output in a log file, resolved once its ready line shows.
 */
export async function startComponent(spec: ComponentSpec): Promise<LabChild> {
  let log: WriteStream | undefined = createWriteStream(join(spec.logDir, `${spec.name}.log`), { flags: 'a', mode: PRIVATE_FILE_MODE });
  const closeLog = (): void => {
    log?.end();
    log = undefined;
  };
  const child = startChild({
    name: `lab ${spec.name}`,
    command: process.execPath,
    args: [...vmcryptSelfArgv(), ...spec.args],
    launch: { diesWithParent: 'prefer' },
    outputLimit: OUTPUT_LIMIT,
    onOutput: (text) => log?.write(text),
  });
  void child.exited.then(closeLog);
  let match: RegExpExecArray;
  try {
    match = await child.waitForOutput(spec.ready, spec.readyTimeoutMs ?? 90_000);
  } catch (err) {
    await child.kill();
    throw new LabError(LabErrorCode.START_FAILED, `${spec.name} did not start (log: ${join(spec.logDir, `${spec.name}.log`)}): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return {
    name: spec.name,
    child,
    match,
    async stop() {
      await child.stop(spec.stopGraceMs ?? 10_000);
      closeLog();
    },
  };
}
