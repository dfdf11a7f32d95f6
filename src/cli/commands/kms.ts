import type { CliIo, CommandGroup } from '../command.js';
import { parseCommandArgs, requireOption } from '../args.js';
import { UsageError } from '../../errors.js';
import { initDataDir, issueClientCertificate } from '../../kms/data-dir.js';
import { serveKms, type RunningKms } from '../../kms/serve.js';
import { KMS_STORE_FLAGS, etcdTlsFromFlags } from './kms-store-flags.js';
import { certificateInfo, KeyAlgorithm, readPemFile } from '../../pki/index.js';
import { KMS_AUDIT_USAGE, kmsAuditCommand } from './kms-audit.js';
import { KMS_BACKUP_USAGE, kmsBackupCommand } from './kms-backup.js';
import { KMS_SEAL_USAGE, kmsSealCommand, printShares, shareCounts, unlockFlags } from './kms-seal.js';

const USAGE = {
  init: 'vmcrypt kms init --data DIR [--shares 5 --threshold 3] [--auto-unseal-file F] [--dns NAME]… [--ip ADDR]… [--key-type ecdsa-p256|rsa-2048] [--json]',
  serve:
    'vmcrypt kms serve --data DIR [--listen 127.0.0.1:5696] [--auto-unseal-file F | --admin-socket PATH] [--cert F --key F --ca F] [--pin SHA256]… [--store sqlite|etcd --etcd URL,URL] [--etcd-prefix P] [--etcd-ca F [--etcd-cert F --etcd-key F]]',
  ...KMS_SEAL_USAGE,
  audit: KMS_AUDIT_USAGE,
  ...KMS_BACKUP_USAGE,
  cluster: 'vmcrypt kms cluster up [--dir DIR] [--nodes 3] [--etcd-members 3] [--etcd-only] [--json]   (see docs/kms-cluster.md)',
  'issue-client-cert': 'vmcrypt kms issue-client-cert --data DIR --name NAME [--auto-unseal-file F | --share S…] [--key-type ecdsa-p256|rsa-2048] [--json]',
} as const;

const HELP = [
  'usage: vmcrypt kms <command> …   (KMIP 1.0–1.4 key server over mutual TLS)',
  '',
  ...Object.values(USAGE).map((u) => `  ${u}`),
  '',
  'init creates DIR (0700) with a master key sealed under an unseal key split into Shamir shares',
  '(printed once), a CA (its key sealed too), a server certificate and a client certificate for',
  'the manager. serve starts SEALED (every KMIP request gets a "sealed" error) until `kms unseal`',
  'gets --threshold shares; --auto-unseal-file F unseals at start (labs, tests: weaker). serve',
  'prints "kms listening on HOST:PORT" once ready; SIGTERM or SIGINT stop it gracefully.',
  '--pin accepts a client certificate by its SHA-256 fingerprint.',
].join('\n');

/** "HOST:PORT" → parts; port 0 = any free port. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  if (m === null || m[1] === undefined || !Number.isInteger(port) || port > 65535) {
    throw new UsageError(`--listen must be HOST:PORT, got ${JSON.stringify(text)}`);
  }
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

/** --key-type: ECDSA P-256 (default) or RSA 2048 for clients that want RSA certificates. */
function parseKeyType(value: string | undefined, usage: string): KeyAlgorithm {
  if (value === undefined) return KeyAlgorithm.ECDSA_P256;
  const known = Object.values(KeyAlgorithm) as string[];
  if (!known.includes(value)) throw new UsageError(`--key-type must be ${known.join(' or ')}\nusage: ${usage}`);
  return value as KeyAlgorithm;
}

async function init(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(
    args,
    {
      data: { type: 'string' },
      dns: { type: 'string', multiple: true },
      ip: { type: 'string', multiple: true },
      'key-type': { type: 'string' },
      shares: { type: 'string' },
      threshold: { type: 'string' },
      'auto-unseal-file': { type: 'string' },
      json: { type: 'boolean' },
    },
    USAGE.init,
  );
  const dir = requireOption(values.data, '--data', USAGE.init);
  const keyAlgorithm = parseKeyType(values['key-type'], USAGE.init);
  const counts = shareCounts(values, USAGE.init);
  const seal = { ...counts, ...(values['auto-unseal-file'] === undefined ? {} : { autoUnsealFile: values['auto-unseal-file'] }) };
  const r = await initDataDir(dir, { dnsNames: values.dns ?? [], ipAddresses: values.ip ?? [], keyAlgorithm, seal });
  const out = {
    dataDir: r.paths.dataDir,
    masterKey: r.paths.masterSealed,
    shares: r.shares ?? [],
    threshold: r.threshold ?? 0,
    ...(values['auto-unseal-file'] === undefined ? {} : { autoUnsealFile: values['auto-unseal-file'] }),
    database: r.paths.database,
    auditLog: r.paths.auditLog,
    caCert: r.paths.caCert,
    serverCert: r.paths.serverCert,
    serverKey: r.paths.serverKey,
    client: { name: r.manager.name, cert: r.manager.cert, key: r.manager.key },
  };
  if (values.json === true) io.out(JSON.stringify(out, null, 2));
  else {
    io.out(`initialised KMS data directory ${out.dataDir}`);
    io.out(`  master key     ${out.masterKey} (sealed, 0600)`);
    io.out(`  CA certificate ${out.caCert}`);
    io.out(`  server cert    ${out.serverCert}`);
    io.out(`  server key     ${out.serverKey}`);
    io.out(`  client cert    ${out.client.cert} (CN=${out.client.name})`);
    io.out(`  client key     ${out.client.key}`);
    if (out.autoUnsealFile !== undefined) io.out(`  auto-unseal    ${out.autoUnsealFile} (0600; WEAKER: whoever reads it and the data dir has every key)`);
    printShares(io, out.shares, out.threshold);
    io.out(`start it with: vmcrypt kms serve --data ${out.dataDir}, then vmcrypt kms unseal --data ${out.dataDir} (${out.threshold} shares)`);
  }
  return 0;
}

async function issue(args: readonly string[], io: CliIo): Promise<number> {
  const usage = USAGE['issue-client-cert'];
  const { values } = parseCommandArgs(
    args,
    {
      data: { type: 'string' },
      name: { type: 'string' },
      'key-type': { type: 'string' },
      'auto-unseal-file': { type: 'string' },
      share: { type: 'string', multiple: true },
      json: { type: 'boolean' },
    },
    usage,
  );
  const dir = requireOption(values.data, '--data', usage);
  const name = requireOption(values.name, '--name', usage);
  const c = await issueClientCertificate(dir, name, parseKeyType(values['key-type'], usage), unlockFlags(values));
  const fingerprint = certificateInfo(await readPemFile(c.cert)).sha256Fingerprint;
  if (values.json === true) io.out(JSON.stringify({ name: c.name, cert: c.cert, key: c.key, sha256Fingerprint: fingerprint }, null, 2));
  else {
    io.out(`client certificate for identity ${c.name}`);
    io.out(`  cert ${c.cert}`);
    io.out(`  key  ${c.key} (0600)`);
    io.out(`  sha256 ${fingerprint}`);
  }
  return 0;
}

/** Resolves once SIGTERM or SIGINT arrives (kms serve, lab up). */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => () => {
      process.off('SIGTERM', term);
      process.off('SIGINT', int);
      resolve(sig);
    };
    const term = on('SIGTERM');
    const int = on('SIGINT');
    process.on('SIGTERM', term);
    process.on('SIGINT', int);
  });
}

/** --etcd-ca [--etcd-cert --etcd-key]: TLS to the etcd members (https:// endpoints), client certificate for --client-cert-auth. */
async function serve(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(
    args,
    {
      data: { type: 'string' },
      listen: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      ca: { type: 'string' },
      pin: { type: 'string', multiple: true },
      ...KMS_STORE_FLAGS,
      'auto-unseal-file': { type: 'string' },
      'admin-socket': { type: 'string' },
    },
    USAGE.serve,
  );
  const dir = requireOption(values.data, '--data', USAGE.serve);
  const { host, port } = parseListen(values.listen ?? '127.0.0.1:5696');
  const store = values.store ?? 'sqlite';
  if (store !== 'sqlite' && store !== 'etcd') throw new UsageError(`--store must be sqlite or etcd\nusage: ${USAGE.serve}`);
  const given = [values.cert, values.key].filter((v) => v !== undefined).length;
  if (given === 1) throw new UsageError(`--cert and --key go together\nusage: ${USAGE.serve}`);
  for (const pin of values.pin ?? []) {
    if (!/^[0-9a-f]{64}$/.test(pin.replace(/[\s:]/g, '').toLowerCase())) throw new UsageError(`--pin takes a SHA-256 fingerprint (64 hex digits)`);
  }
  const etcdTls = etcdTlsFromFlags(values, store, USAGE.serve);
  let etcdEndpoints: string[] | undefined;
  if (values.etcd !== undefined) {
    const { parseEtcdEndpoints } = await import('../../kms/store/etcd.js');
    etcdEndpoints = parseEtcdEndpoints(values.etcd);
  }
  const kms: RunningKms = await serveKms({
    dataDir: dir,
    host,
    port,
    store,
    log: (line) => io.err(line),
    ...(values.cert === undefined ? {} : { certFile: values.cert }),
    ...(values.key === undefined ? {} : { keyFile: values.key }),
    ...(values.ca === undefined ? {} : { caFile: values.ca }),
    ...(values.pin === undefined ? {} : { pinnedFingerprints: values.pin }),
    ...(etcdEndpoints === undefined ? {} : { etcdEndpoints }),
    ...(values['etcd-prefix'] === undefined ? {} : { etcdPrefix: values['etcd-prefix'] }),
    ...(etcdTls === undefined ? {} : { etcdTls }),
    ...(values['auto-unseal-file'] === undefined ? {} : { autoUnsealFile: values['auto-unseal-file'] }),
    ...(values['admin-socket'] === undefined ? {} : { adminSocket: values['admin-socket'] }),
  });
  const shown = kms.host.includes(':') ? `[${kms.host}]` : kms.host;
  io.out(`kms listening on ${shown}:${kms.port} (store ${kms.storeKind})`);
  const sig = await untilSignal();
  io.err(`kms: ${sig}: stopping`);
  await kms.close();
  io.err('kms: stopped');
  return 0;
}

export const kmsCommands: CommandGroup = {
  name: 'kms',
  summary: 'key server (KMIP over mutual TLS): init, serve, unseal, status, seal-migrate, issue-client-cert, backup, restore, audit verify, cluster up',
  async run(args, io) {
    const [sub, ...rest] = args;
    switch (sub) {
      case 'init':
        return init(rest, io);
      case 'serve':
        return serve(rest, io);
      case 'issue-client-cert':
        return issue(rest, io);
      case 'unseal':
      case 'status':
      case 'seal-migrate':
      case 'rotate-master':
        return kmsSealCommand(sub, rest, io);
      case 'audit':
        return kmsAuditCommand(rest, io);
      case 'backup':
      case 'restore':
      case 'verify-backup':
        return kmsBackupCommand(sub, rest, io);
      case 'cluster': {
        // `kms cluster up`: etcd members + KMS nodes on loopback (src/cli/commands/kms-cluster.ts).
        const { kmsClusterCommand } = await import('./kms-cluster.js');
        return kmsClusterCommand(rest, io);
      }
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        io.out(HELP);
        return sub === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command 'kms ${sub}'\n${HELP}`);
    }
  },
};
