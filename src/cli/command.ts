/** A CLI verb group (`vmcrypt kms …`, `vmcrypt disk …`). Each lives in src/cli/commands/. */
export interface CommandGroup {
  readonly name: string;
  readonly summary: string;
  /** Runs `vmcrypt <name> <args…>`; resolves to the process exit code. */
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/** Where a command writes; injected so tests can capture output. */
export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** True when stderr is a terminal: progress bars only then. */
  readonly interactive: boolean;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  interactive: process.stderr.isTTY === true,
};
