import type { CommandGroup } from '../command.js';
import { UsageError } from '../../errors.js';

export const kmsCommands: CommandGroup = {
  name: 'kms',
  summary: 'key server (KMIP over mutual TLS): init, serve, issue-client-cert',
  async run(args) {
    throw new UsageError(`'kms ${args[0] ?? ''}' is not implemented yet`);
  },
};
