import type { CommandGroup } from '../command.js';
import { UsageError } from '../../errors.js';

export const labCommands: CommandGroup = {
  name: 'lab',
  summary: 'the local lab on loopback: up',
  async run(args) {
    throw new UsageError(`'lab ${args[0] ?? ''}' is not implemented yet`);
  },
};
