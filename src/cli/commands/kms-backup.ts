import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CliIo } from '../command.js';
import { parseCommandArgs, requireOption } from '../args.js';
import { UsageError } from '../../errors.js';
import { pruneBackups, scheduledName, takeBackup } from '../../kms/backup/backup.js';
import { restoreBackup, verifyBackup } from '../../kms/backup/restore.js';
import { MAX_BACKUP_BYTES } from '../../kms/backup/backup-format.js';
import { kmsPaths } from '../../kms/data-dir.js';
import { KmsError } from '../../kms/errors.js';
import type { StoreOptions } from '../../kms/open-key-server.js';
import { makePrivateDir } from '../../fs/private-files.js';
import { unlockFlags } from './kms-seal.js';
import { KMS_STORE_FLAGS, etcdTlsFromFlags, type StoreFlagValues } from './kms-store-flags.js';

const STORE = '[--store sqlite|etcd --etcd URL,URL [--etcd-prefix P] [--etcd-ca F [--etcd-cert F --etcd-key F]]]';
export const KMS_BACKUP_USAGE = {
  backup: `vmcrypt kms backup --data DIR --out FILE ${STORE} [--json]   |   --out DIR --every 1h [--keep 48]`,
  restore: `vmcrypt kms restore --in FILE --data NEWDIR (--share S… | --auto-unseal-file F) ${STORE} [--dns NAME]… [--ip ADDR]… [--json]`,
  'verify-backup': 'vmcrypt kms verify-backup FILE [--share S… | --auto-unseal-file F] [--json]',
} as const;

async function storeOptions(v: StoreFlagValues, usage: string): Promise<Omit<StoreOptions, 'database'>> {
  const store = v.store ?? 'sqlite';
  if (store !== 'sqlite' && store !== 'etcd') throw new UsageError(`--store must be sqlite or etcd\nusage: ${usage}`);
  if (store === 'sqlite') return { store };
  if (v.etcd === undefined) throw new UsageError(`--store etcd needs --etcd URL,URL\nusage: ${usage}`);
  const { parseEtcdEndpoints } = await import('../../kms/store/etcd.js');
  const tls = etcdTlsFromFlags(v, store, usage);
  return { store, etcdEndpoints: parseEtcdEndpoints(v.etcd), ...(v['etcd-prefix'] === undefined ? {} : { etcdPrefix: v['etcd-prefix'] }), ...(tls === undefined ? {} : { etcdTls: tls }) };
}

/** "30s", "15m", "1h", "1d" → ms. */
export function parseEvery(text: string): number {
  const m = /^(\d{1,6})(s|m|h|d)$/.exec(text);
  if (m === null) throw new UsageError(`--every takes a duration like 30s, 15m, 1h, 1d`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

async function backup(args: readonly string[], io: CliIo): Promise<number> {
  const usage = KMS_BACKUP_USAGE.backup;
  const { values } = parseCommandArgs(args, { data: { type: 'string' }, out: { type: 'string' }, every: { type: 'string' }, keep: { type: 'string' }, json: { type: 'boolean' }, ...KMS_STORE_FLAGS }, usage);
  const dir = requireOption(values.data, '--data', usage);
  const out = requireOption(values.out, '--out', usage);
  const store = { ...(await storeOptions(values, usage)), database: kmsPaths(dir).database };
  const report = (file: string, m: { count: number; digest: string; time: string }) =>
    io.out(values.json === true ? JSON.stringify({ file, ...m }) : `backup ${file}: ${m.count} objects at ${m.time}, sha256 ${m.digest}`);
  if (values.every === undefined) {
    report(out, await takeBackup(kmsPaths(dir), store, out));
    return 0;
  }
  const everyMs = parseEvery(values.every);
  const keep = values.keep === undefined ? 48 : Number(values.keep);
  if (!Number.isInteger(keep) || keep < 1) throw new UsageError(`--keep must be a positive integer\nusage: ${usage}`);
  await makePrivateDir(out);
  let stop = false;
  let wake: () => void = () => {};
  const onSig = () => {
    stop = true;
    wake();
  };
  process.once('SIGTERM', onSig);
  process.once('SIGINT', onSig);
  while (!stop) {
    const file = join(out, scheduledName(new Date()));
    try {
      report(file, await takeBackup(kmsPaths(dir), store, file));
      await pruneBackups(out, keep);
    } catch (err) {
      // A failed run is reported and retried next time: the schedule itself must not die.
      io.err(`kms backup: ${err instanceof Error ? err.message : String(err)}`);
    }
    await new Promise<void>((r) => {
      wake = r;
      setTimeout(r, everyMs).unref();
    });
  }
  return 0;
}

async function readBackupFile(path: string): Promise<Buffer> {
  const st = await import('node:fs/promises').then((fs) => fs.stat(path));
  if (st.size > MAX_BACKUP_BYTES) throw new KmsError('BACKUP_INVALID', `${path} is too large to be a backup`);
  return readFile(path);
}

async function restore(args: readonly string[], io: CliIo): Promise<number> {
  const usage = KMS_BACKUP_USAGE.restore;
  const { values } = parseCommandArgs(
    args,
    { in: { type: 'string' }, data: { type: 'string' }, share: { type: 'string', multiple: true }, 'auto-unseal-file': { type: 'string' }, dns: { type: 'string', multiple: true }, ip: { type: 'string', multiple: true }, json: { type: 'boolean' }, ...KMS_STORE_FLAGS },
    usage,
  );
  const file = requireOption(values.in, '--in', usage);
  const dir = requireOption(values.data, '--data', usage);
  const r = await restoreBackup({ backup: await readBackupFile(file), dataDir: dir, store: await storeOptions(values, usage), unlock: unlockFlags(values), dnsNames: values.dns ?? [], ipAddresses: values.ip ?? [] });
  if (values.json === true) io.out(JSON.stringify({ dataDir: dir, ...r.manifest, client: r.manager }));
  else {
    io.out(`restored ${r.manifest.count} objects (backup of ${r.manifest.time}) into ${dir}`);
    io.out(`  new server certificate and manager client certificate ${r.manager.cert} from the same CA`);
    io.out(`start it with: vmcrypt kms serve --data ${dir}, then vmcrypt kms unseal --data ${dir}`);
  }
  return 0;
}

async function verify(args: readonly string[], io: CliIo): Promise<number> {
  const usage = KMS_BACKUP_USAGE['verify-backup'];
  const { values, positionals } = parseCommandArgs(args, { share: { type: 'string', multiple: true }, 'auto-unseal-file': { type: 'string' }, json: { type: 'boolean' } }, usage);
  const file = positionals[0];
  if (file === undefined) throw new UsageError(`give the backup file\nusage: ${usage}`);
  const r = await verifyBackup(await readBackupFile(file), unlockFlags(values));
  if (values.json === true) io.out(JSON.stringify(r));
  else io.out(`backup OK: ${r.count} objects at ${r.time} (server ${r.serverVersion}, store ${r.store}), sha256 ${r.digest}${r.recordsAuthenticated ? ', every record authenticated' : ''}`);
  return 0;
}

export async function kmsBackupCommand(verb: 'backup' | 'restore' | 'verify-backup', args: readonly string[], io: CliIo): Promise<number> {
  if (verb === 'backup') return backup(args, io);
  if (verb === 'restore') return restore(args, io);
  return verify(args, io);
}
