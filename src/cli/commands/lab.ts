import { join, resolve } from 'node:path';
import type { CliIo, CommandGroup } from '../command.js';
import { parseCommandArgs } from '../args.js';
import { UsageError } from '../../errors.js';
import { initDataDir, isInitialized, kmsPaths, MANAGER_CLIENT_NAME } from '../../kms/data-dir.js';
import { KmsError } from '../../kms/errors.js';
import { serveKms, type RunningKms } from '../../kms/serve.js';
import { untilSignal } from './kms.js';
import { startLabHost, type LabHost } from './lab-hosts.js';

const USAGE = 'vmcrypt lab up [--dir DIR] [--kms-port PORT] [--hosts N] [--json]';
const HELP = [
  `usage: ${USAGE}`,
  '',
  'Brings up the local lab on 127.0.0.1: a key server (KMS) with a generated PKI under DIR/kms',
  '(default ./lab/kms, created on first run) on port 5696 or a free port if that is busy, and N host',
  'agents (default 2: DIR/host-1, DIR/host-2, each its own process on a free port). Prints the KMS',
  'address and client certificate, each host\'s URL, thumbprint and one-time pairing token.',
  'The manager joins the lab in a later release. Ctrl-C stops everything.',
].join('\n');

async function up(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(
    args,
    { dir: { type: 'string' }, 'kms-port': { type: 'string' }, hosts: { type: 'string' }, json: { type: 'boolean' } },
    USAGE,
  );
  const labDir = resolve(values.dir ?? 'lab');
  const wanted = Number(values['kms-port'] ?? 5696);
  if (!Number.isInteger(wanted) || wanted < 0 || wanted > 65535) throw new UsageError(`--kms-port must be 0–65535\nusage: ${USAGE}`);
  const hostCount = Number(values.hosts ?? 2);
  if (!Number.isInteger(hostCount) || hostCount < 0 || hostCount > 8) throw new UsageError(`--hosts must be 0–8\nusage: ${USAGE}`);
  const kmsDir = join(labDir, 'kms');
  const created = !(await isInitialized(kmsDir));
  if (created) await initDataDir(kmsDir);
  let kms: RunningKms;
  try {
    kms = await serveKms({ dataDir: kmsDir, host: '127.0.0.1', port: wanted, log: (l) => io.err(l) });
  } catch (err) {
    if (!(err instanceof KmsError) || !/EADDRINUSE/.test(err.message)) throw err;
    io.err(`lab: port ${wanted} is busy; using a free port`);
    kms = await serveKms({ dataDir: kmsDir, host: '127.0.0.1', port: 0, log: (l) => io.err(l) });
  }
  const hosts: LabHost[] = [];
  try {
    for (let i = 1; i <= hostCount; i++) hosts.push(await startLabHost(join(labDir, `host-${i}`), `host-${i}`));
  } catch (err) {
    await Promise.all(hosts.map((h) => h.stop()));
    await kms.close();
    throw err;
  }
  const p = kmsPaths(kmsDir);
  const info = {
    kms: {
      address: `${kms.host}:${kms.port}`,
      dataDir: kmsDir,
      created,
      caCert: p.caCert,
      clientCert: p.clientCert(MANAGER_CLIENT_NAME),
      clientKey: p.clientKey(MANAGER_CLIENT_NAME),
      identity: MANAGER_CLIENT_NAME,
    },
    hosts: hosts.map((h) => ({ name: h.name, url: h.url, thumbprint: h.thumbprint, pairingToken: h.pairingToken ?? null, dataDir: h.dataDir, pid: h.pid })),
  };
  if (values.json === true) io.out(JSON.stringify(info));
  else {
    io.out(`lab: kms listening on ${info.kms.address} (KMIP 1.0–1.4 over mutual TLS)${created ? ', PKI generated' : ''}`);
    io.out(`  CA certificate  ${info.kms.caCert}`);
    io.out(`  client cert     ${info.kms.clientCert} (identity ${info.kms.identity})`);
    io.out(`  client key      ${info.kms.clientKey}`);
    io.out(`  try: /usr/bin/python3 -c "from kmip.pie.client import ProxyKmipClient as C; from kmip import enums;` +
      ` c=C(hostname='127.0.0.1', port=${kms.port}, cert='${info.kms.clientCert}', key='${info.kms.clientKey}', ca='${info.kms.caCert}');` +
      ` c.open(); print(c.create(enums.CryptographicAlgorithm.AES, 256)); c.close()"`);
    for (const h of hosts) {
      io.out(`lab: host agent ${h.name} on ${h.url}`);
      io.out(`  thumbprint      ${h.thumbprint}`);
      io.out(`  pairing token   ${h.pairingToken ?? '(already paired with a manager)'}  — docs/host.md "Adding the host to a manager"`);
    }
    io.out('Ctrl-C stops the lab.');
  }
  const sig = await untilSignal();
  io.err(`lab: ${sig}: stopping`);
  await Promise.all(hosts.map((h) => h.stop()));
  await kms.close();
  return 0;
}

export const labCommands: CommandGroup = {
  name: 'lab',
  summary: 'the local lab on loopback: up',
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === 'up') return up(rest, io);
    if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
      io.out(HELP);
      return sub === undefined ? 2 : 0;
    }
    throw new UsageError(`unknown command 'lab ${sub}'\n${HELP}`);
  },
};
