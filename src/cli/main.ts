import { UsageError, VmcryptError } from '../errors.js';
import { processIo, type CliIo } from './command.js';
import { commandIndex, type LazyCommandGroup } from './commands/index.js';

function usage(groups: readonly LazyCommandGroup[]): string {
  const lines = ['usage: vmcrypt <command> [args…]   (vmcrypt <command> --help for more)', '', 'commands:'];
  for (const g of groups) lines.push(`  ${g.name.padEnd(14)} ${g.summary}`);
  return lines.join('\n');
}

/** Runs the CLI; returns the exit code. Errors become one clear line, never a stack trace. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage(commandIndex));
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    io.out('vmcrypt 0.1.0');
    return 0;
  }
  const entry = commandIndex.find((g) => g.name === name);
  if (entry === undefined) {
    io.err(`vmcrypt: unknown command '${name}'\n${usage(commandIndex)}`);
    return 2;
  }
  try {
    const group = await entry.load();
    return await group.run(rest, io);
  } catch (err) {
    if (err instanceof VmcryptError) {
      // Usage errors end with the usage text; every other error names its stable code for scripts.
      io.err(err instanceof UsageError ? `vmcrypt ${name}: ${err.message}` : `vmcrypt ${name}: ${err.message} [${err.code}]`);
      return err.exitCode;
    }
    io.err(`vmcrypt ${name}: internal error: ${err instanceof Error ? err.message : String(err)}`);
    return 70;
  }
}
