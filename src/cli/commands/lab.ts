import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CliIo, CommandGroup } from '../command.js';
import { parseCommandArgs } from '../args.js';
import { UsageError } from '../../errors.js';
import { untilSignal } from './kms.js';
import { runLab, type RunningLab } from '../lab/lab-run.js';
import { startDetachedLab } from '../lab/detach.js';
import { requestLabStop, startLabKeyServer, stopLabKeyServer } from '../lab/control.js';
import { readLabState } from '../lab/state.js';
import { LabError, LabErrorCode } from '../lab/errors.js';
import { LAB_CLUSTER, LAB_DATASTORE, DEMO_VM } from '../lab/inventory-setup.js';
import { groupSummary } from './summaries.js';

const USAGE = {
  up: 'vmcrypt lab up [--dir DIR] [--hosts N] [--managers N] [--kms-cluster] [--free-ports] [--detach] [--json]',
  down: 'vmcrypt lab down [--dir DIR]',
  kms: 'vmcrypt lab kms-stop|kms-start NAME [--dir DIR]',
} as const;

const HELP = [
  'usage:',
  ...Object.values(USAGE).map((u) => `  ${u}`),
  '',
  'up brings the whole lab up on 127.0.0.1, each part its own process: a KMS (SQLite; --kms-cluster:',
  'three KMS nodes on a 3-member etcd cluster; its master key sealed, unsealed at start from a file',
  'beside the data dir, the 5 unseal shares in DIR/kms-unseal-shares.txt: a lab, not production), a manager (--managers 2: a second one sharing the key',
  'provider) and N host agents (default 2). Then, through the manager\'s API as an operator would: the',
  'KMS as the default key provider with trust, one HA cluster with the hosts paired, a shared',
  'datastore and a demo VM. It prints the console URL, the admin login and DIR/profile.json (for the',
  'CLI: export VMCRYPT_PROFILE=DIR/profile.json). Ports 5696 (KMS), 9443 (console), 9501+ (hosts) when',
  'free, else free ones (--free-ports: always free ones); they are kept in DIR/lab.json.',
  'Ctrl-C stops everything; running it again reuses DIR (same keys, same VMs, which unlock by themselves).',
  '--detach runs the lab in the background (output in DIR/lab.log); down stops it.',
  'kms-stop / kms-start stop and start one key server of a running lab (kms-1, kms-2, …).',
  '',
  'examples:',
  '  vmcrypt lab up                      # ./lab, Ctrl-C to stop',
  '  vmcrypt lab up --dir /tmp/lab --detach && vmcrypt lab down --dir /tmp/lab',
  '  vmcrypt lab up --kms-cluster --managers 2',
  '  vmcrypt lab kms-stop kms-1          # watch the provider fail over (with --kms-cluster)',
].join('\n');

function count(v: string | undefined, def: number, flag: string, min: number, max: number): number {
  const n = v === undefined ? def : Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be ${min}–${max}\nusage: ${USAGE.up}`);
  return n;
}

function summary(lab: RunningLab) {
  return {
    dir: lab.dir,
    consoleUrl: lab.consoleUrl,
    managerThumbprint: lab.thumbprint,
    admin: { user: lab.adminUser, passwordFile: lab.adminPasswordFile },
    profile: lab.profilePath,
    kms: {
      mode: lab.kms.mode, servers: lab.kms.servers, provider: lab.provider.id, health: lab.provider.color,
      dataDir: lab.kms.dataDir, autoUnsealFile: lab.kms.seal.autoUnsealFile, unsealShares: lab.kms.seal.sharesFile,
    },
    managers: lab.managers.map((m) => ({
      name: m.name, url: m.url, pid: m.child.pid,
      hosts: lab.managerHosts.filter((h) => h.manager === m.name).map((h) => ({ name: h.host.name, url: h.host.url, pid: h.host.child.pid })),
    })),
    cluster: LAB_CLUSTER,
    hosts: lab.hosts.map((h) => ({ name: h.name, url: h.url, pid: h.child.pid })),
    datastore: { name: LAB_DATASTORE, path: `${lab.dir}/shared` },
    demoVm: { name: DEMO_VM, id: lab.inventory.demoVmId },
  };
}

/** The lab's first admin password, shown so the console can be opened at once (a lab is not production). */
function labPassword(file: string): string {
  try {
    const text = readFileSync(file, 'utf8');
    const pw = text.length <= 256 ? text.trim() : '';
    return pw === '' ? '(see the file)' : pw;
  } catch {
    return '(file missing: reset it with vmcrypt user password)';
  }
}

function printSummary(lab: RunningLab, io: CliIo): void {
  const s = summary(lab);
  io.out(`lab ready in ${s.dir}`);
  io.out(`  console     ${s.consoleUrl}   (self-signed; certificate sha256 ${s.managerThumbprint})`);
  io.out(`  login       user ${s.admin.user}, password ${labPassword(s.admin.passwordFile)} (kept in ${s.admin.passwordFile})`);
  io.out(`  CLI profile ${s.profile}   → export VMCRYPT_PROFILE=${s.profile}`);
  io.out(`  key provider ${s.kms.provider} (default, health ${s.kms.health}): ${s.kms.servers.map((k) => `${k.name} ${k.host}:${k.port}`).join(', ')}`);
  io.out(`  KMS seal    sealed master key in ${s.kms.dataDir}, unsealed at start from ${s.kms.autoUnsealFile};`);
  io.out(`              the 5 unseal shares are in ${s.kms.unsealShares} (a lab is not production: docs/lab.md)`);
  for (const m of s.managers.slice(1)) {
    io.out(`  ${m.name}   ${m.url}/ (shares the key provider; profile ${s.dir}/profile-${m.name}.json)`);
    if (m.hosts.length > 0) io.out(`              its host: ${m.hosts.map((h) => `${h.name} ${h.url}`).join(', ')} (same shared datastore: vm move / clone --manager)`);
  }
  io.out(`  HA cluster  ${s.cluster}: ${s.hosts.map((h) => `${h.name} ${h.url}`).join(', ')}`);
  io.out(`  datastore   ${s.datastore.name} = ${s.datastore.path} (on every host)`);
  io.out(`  demo VM     ${s.demoVm.name} (next: vmcrypt vm encrypt ${s.demoVm.name}; the tour is in docs/lab.md)`);
  io.out(`  logs        ${s.dir}/logs/`);
  io.out('Ctrl-C stops the lab; its data stays in the directory for the next run.');
}

async function up(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, {
    dir: { type: 'string' }, hosts: { type: 'string' }, managers: { type: 'string' },
    'kms-cluster': { type: 'boolean' }, 'free-ports': { type: 'boolean' }, detach: { type: 'boolean' }, json: { type: 'boolean' },
  }, USAGE.up);
  const dir = resolve(values.dir ?? 'lab');
  const hosts = count(values.hosts, 2, '--hosts', 0, 8);
  const managers = count(values.managers, 1, '--managers', 1, 2);
  if (values.detach === true) {
    const upArgs = [
      '--dir', dir, '--hosts', String(hosts), '--managers', String(managers),
      ...(values['kms-cluster'] === true ? ['--kms-cluster'] : []), ...(values['free-ports'] === true ? ['--free-ports'] : []),
    ];
    const { pid, log, state } = await startDetachedLab(dir, upArgs, 300_000);
    const info = { dir, pid, log, consoleUrl: state.run?.consoleUrl ?? null, profile: `${dir}/profile.json` };
    if (values.json === true) io.out(JSON.stringify(info));
    else {
      io.out(`lab running in the background (pid ${pid}); output in ${log}`);
      io.out(`  console     ${info.consoleUrl ?? '?'}`);
      io.out(`  CLI profile ${info.profile}   → export VMCRYPT_PROFILE=${info.profile}`);
      io.out(`stop it with: vmcrypt lab down --dir ${dir}`);
    }
    return 0;
  }
  // Ctrl-C during start-up is honoured once the lab is up (everything is then stopped in order).
  const signal = untilSignal();
  const lab = await runLab({ dir, hosts, managers, kmsCluster: values['kms-cluster'] === true, freePorts: values['free-ports'] === true, log: io.err });
  if (values.json === true) io.out(JSON.stringify(summary(lab)));
  else printSummary(lab, io);
  const why = await Promise.race([signal, lab.stopRequested.then(() => 'lab down')]);
  io.err(`lab: ${why}: stopping`);
  await lab.stop();
  io.err('lab: stopped');
  return 0;
}

async function down(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, { dir: { type: 'string' } }, USAGE.down);
  const dir = resolve(values.dir ?? 'lab');
  const pid = (await readLabState(dir))?.run?.pid;
  await requestLabStop(dir);
  if (pid !== undefined) {
    const end = Date.now() + 60_000;
    while (alive(pid)) {
      if (Date.now() > end) throw new LabError(LabErrorCode.CONTROL_FAILED, `the lab (pid ${pid}) is still stopping after 60 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  io.out(`lab in ${dir} stopped`);
  return 0;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function keyServer(verb: 'kms-stop' | 'kms-start', args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { dir: { type: 'string' } }, USAGE.kms);
  const name = positionals[0];
  if (name === undefined || positionals.length > 1) throw new UsageError(`give one key server name (kms-1, kms-2, …)\nusage: ${USAGE.kms}`);
  const dir = resolve(values.dir ?? 'lab');
  await (verb === 'kms-stop' ? stopLabKeyServer(dir, name) : startLabKeyServer(dir, name));
  io.out(`key server ${name} ${verb === 'kms-stop' ? 'stopped' : 'started'}`);
  return 0;
}

export const labCommands: CommandGroup = {
  name: 'lab',
  summary: groupSummary('lab'),
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === 'up') return up(rest, io);
    if (sub === 'down') return down(rest, io);
    if (sub === 'kms-stop' || sub === 'kms-start') return keyServer(sub, rest, io);
    if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
      io.out(HELP);
      return sub === undefined ? 2 : 0;
    }
    throw new UsageError(`unknown command 'lab ${sub}'\n${HELP}`);
  },
};
