import { resolve } from 'node:path';
import type { CliIo, CommandGroup } from '../command.js';
import { parseCommandArgs, requireOption } from '../args.js';
import { UsageError } from '../../errors.js';
import { openManager } from '../../manager/manager.js';
import { parseListen, untilSignal } from './kms.js';
import { groupSummary } from './summaries.js';

const USAGE = {
  serve: 'vmcrypt manager serve --data DIR [--listen 127.0.0.1:9443] [--poll-ms N] [--key-retry-ms N]',
} as const;

const HELP = [
  'usage: vmcrypt manager <command> …   (the vCenter role: inventory, storage policies, key providers, hosts)',
  '',
  ...Object.values(USAGE).map((u) => `  ${u}`),
  '',
  'serve creates DIR (0700) on first start with the database, the HTTPS certificate, the client',
  'certificate hosts pin at pairing, and the initial admin password (DIR/initial-admin-password).',
  'It prints "manager listening on URL thumbprint=…" once ready; SIGTERM or SIGINT stop it.',
  '--poll-ms sets how often each host is polled (default 5000); --key-retry-ms how often locked',
  'VMs are retried (default 5000).',
].join('\n');

function positiveInt(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 10 || n > 3_600_000) throw new UsageError(`${flag} must be an integer of milliseconds (10–3600000)\nusage: ${USAGE.serve}`);
  return n;
}

async function serve(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(
    args,
    { data: { type: 'string' }, listen: { type: 'string' }, 'poll-ms': { type: 'string' }, 'key-retry-ms': { type: 'string' } },
    USAGE.serve,
  );
  const dataDir = resolve(requireOption(values.data, '--data', USAGE.serve));
  const listen = parseListen(values.listen ?? '127.0.0.1:9443');
  const pollMs = positiveInt(values['poll-ms'], '--poll-ms');
  const retryMs = positiveInt(values['key-retry-ms'], '--key-retry-ms');
  const manager = await openManager({
    dataDir, listen,
    ...(pollMs === undefined ? {} : { monitor: { intervalMs: pollMs, unlockRetryMs: Math.max(pollMs, 200) }, hostConnectTimeoutMs: Math.max(2000, pollMs * 5) }),
    ...(retryMs === undefined ? {} : { keyOptions: { retryIntervalMs: retryMs } }),
  });
  const admin = manager.platform.initialAdmin;
  if (admin?.passwordFile !== undefined) io.out(`initial admin password (user ${admin.user}) in ${admin.passwordFile} (0600): log in and change it`);
  io.out(`host client certificate ${manager.hostClientCertificate.certFile} sha256=${manager.hostClientCertificate.thumbprint}`);
  io.out(`manager listening on ${manager.url ?? '?'} thumbprint=${manager.serverCertificate.thumbprint}`);
  const sig = await untilSignal();
  await manager.close();
  io.out(`manager stopped (${sig})`);
  return 0;
}

export const managerCommands: CommandGroup = {
  name: 'manager',
  summary: groupSummary('manager'),
  async run(args, io) {
    const [verb, ...rest] = args;
    switch (verb) {
      case 'serve': return serve(rest, io);
      case undefined: case '--help': case '-h':
        io.out(HELP);
        return verb === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command 'manager ${verb}'\nusage: ${USAGE.serve}`);
    }
  },
};
