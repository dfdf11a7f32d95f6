import { readFile, readlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CommandGroup, CliIo } from '../command.js';
import { parseCommandArgs, requireOption } from '../args.js';
import { UsageError } from '../../errors.js';
import { AGENT_PID_FILE, startHostAgent } from '../../host/agent.js';
import { listCoreDumps, readDiagnosticsStatus } from '../../host/keys/coredump.js';
import { HostError } from '../../host/errors.js';

const SERVE_USAGE = 'vmcrypt host serve --data DIR --name NAME [--listen 127.0.0.1:PORT] [--manager-fingerprint SHA256] [--allow-crash] [--no-migrate-encryption]';
const DIAG_USAGE = 'vmcrypt host diagnostics --data DIR [--json]';
const DUMPS_USAGE = 'vmcrypt host coredumps --data DIR [--json]';

function parseListen(v: string | undefined): { host: string; port: number } {
  if (v === undefined) return { host: '127.0.0.1', port: 8443 };
  const m = /^(.+):(\d{1,5})$/.exec(v);
  const port = Number(m?.[2]);
  if (m?.[1] === undefined || !Number.isInteger(port) || port > 65535) throw new UsageError(`--listen must be HOST:PORT\nusage: ${SERVE_USAGE}`);
  return { host: m[1], port };
}

async function serve(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(
    args,
    {
      data: { type: 'string' },
      name: { type: 'string' },
      listen: { type: 'string' },
      'manager-fingerprint': { type: 'string' },
      'allow-crash': { type: 'boolean' },
      'no-migrate-encryption': { type: 'boolean' },
    },
    SERVE_USAGE,
  );
  const { host, port } = parseListen(values.listen);
  const agent = await startHostAgent({
    dataDir: requireOption(values.data, '--data', SERVE_USAGE),
    name: requireOption(values.name, '--name', SERVE_USAGE),
    host,
    port,
    ...(values['manager-fingerprint'] === undefined ? {} : { managerFingerprint: values['manager-fingerprint'] }),
    allowCrash: values['allow-crash'] === true,
    noMigrateEncryption: values['no-migrate-encryption'] === true,
    print: io.out,
  });
  let crashing = false;
  // A crash writes the agent's dump (encrypted with the host key in crypto-safe mode),
  // powers the VMs off, zeroes the key cache and exits 70.
  process.on('uncaughtException', (err) => {
    if (crashing) return;
    crashing = true;
    io.err(`host agent crashed: ${err.message}`);
    void agent.dump(`crash: ${err.message}`).finally(() => agent.stop().finally(() => process.exit(70)));
  });
  process.on('SIGUSR2', () => void agent.dump('diagnostics (vmcrypt host diagnostics)'));
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await agent.stop();
  io.out(`host agent ${values.name ?? ''} stopped`);
  return 0;
}

/** Asks the running agent (pid in DATA/agent.pid) for a dump and waits for the file. */
async function diagnostics(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, { data: { type: 'string' }, json: { type: 'boolean' } }, DIAG_USAGE);
  const dataDir = requireOption(values.data, '--data', DIAG_USAGE);
  const pid = Number((await readFile(join(dataDir, AGENT_PID_FILE), 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 1) throw new HostError('HOST_NOT_FOUND', `no running host agent for ${dataDir} (no ${AGENT_PID_FILE})`);
  // a killed agent leaves its pid file; that pid may now be another process, which SIGUSR2 would kill
  if (!(await isAgentFor(pid, dataDir))) throw new HostError('HOST_NOT_FOUND', `no running host agent for ${dataDir} (stale ${AGENT_PID_FILE}: pid ${pid} is not its agent)`);
  const before = new Date().toISOString();
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 600; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const status = await readDiagnosticsStatus(dataDir);
    if (status === undefined || status.at < before) continue;
    if (!status.ok || status.dump === undefined) {
      throw new HostError('HOST_COREDUMP_SUPPRESSED', status.message ?? 'the agent wrote no dump');
    }
    const done = status.dump;
    if (values.json === true) io.out(JSON.stringify(done));
    else io.out(`core dump ${done.file} in ${done.location} (${done.encrypted ? `encrypted with host key ${done.keyId ?? '?'}` : 'not encrypted'})`);
    return 0;
  }
  throw new HostError('HOST_COREDUMP_SUPPRESSED', 'the agent did not answer the dump request within 60 s');
}

/** True when process `pid` is `vmcrypt host serve --data DIR` for this DIR (from /proc). */
async function isAgentFor(pid: number, dataDir: string): Promise<boolean> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => undefined);
  const args = cmdline.split('\0');
  const serve = args.findIndex((a, i) => a === 'host' && args[i + 1] === 'serve');
  if (serve < 0 || cwd === undefined) return false;
  const rest = args.slice(serve + 2);
  const i = rest.indexOf('--data');
  const given = i >= 0 ? rest[i + 1] : rest.find((a) => a.startsWith('--data='))?.slice('--data='.length);
  return given !== undefined && resolve(cwd, given) === resolve(dataDir);
}

async function coredumps(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, { data: { type: 'string' }, json: { type: 'boolean' } }, DUMPS_USAGE);
  const dumps = await listCoreDumps(requireOption(values.data, '--data', DUMPS_USAGE));
  if (values.json === true) io.out(JSON.stringify(dumps));
  else for (const d of dumps) io.out(`${d.encrypted ? 'encrypted core dump exists' : 'core dump (not encrypted)'}: ${d.file} in ${d.location}`);
  return 0;
}

export const hostCommands: CommandGroup = {
  name: 'host',
  summary: 'host agent (the ESXi role): serve, diagnostics, coredumps',
  async run(args, io) {
    const [verb, ...rest] = args;
    switch (verb) {
      case 'serve': return serve(rest, io);
      case 'diagnostics': return diagnostics(rest, io);
      case 'coredumps': return coredumps(rest, io);
      case undefined: case '--help': case '-h':
        io.out(['usage:', `  ${SERVE_USAGE}`, `  ${DIAG_USAGE}`, `  ${DUMPS_USAGE}`].join('\n'));
        return verb === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command 'host ${verb}'\nusage: ${SERVE_USAGE}`);
    }
  },
};
