import type { CommandGroup } from '../command.js';
import { UsageError } from '../../errors.js';

export const cryptoUtilCommands: CommandGroup = {
  name: 'crypto-util',
  summary: 'decrypt or recrypt encrypted core dumps',
  async run(args) {
    throw new UsageError(`'crypto-util ${args[0] ?? ''}' is not implemented yet`);
  },
};
