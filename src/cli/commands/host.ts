import type { CommandGroup } from '../command.js';
import { UsageError } from '../../errors.js';

export const hostCommands: CommandGroup = {
  name: 'host',
  summary: 'host agent (the ESXi role): serve, diagnostics',
  async run(args) {
    throw new UsageError(`'host ${args[0] ?? ''}' is not implemented yet`);
  },
};
