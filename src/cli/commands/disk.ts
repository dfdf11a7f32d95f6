import type { CommandGroup } from '../command.js';
import { UsageError } from '../../errors.js';

export const diskCommands: CommandGroup = {
  name: 'disk',
  summary: 'encrypted disk files (LUKS1): create, encrypt, decrypt, rekey, info',
  async run(args) {
    throw new UsageError(`'disk ${args[0] ?? ''}' is not implemented yet`);
  },
};
