import { readdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir } from '../../fs/fsync-dir.js';
import { makePrivateDir, writePrivateFile } from '../../fs/private-files.js';
import { CertificateUsage, issueCertificate, writeCertificateFile, writePrivateKeyFile } from '../../pki/index.js';
import { issueClientCertificate, kmsPaths, MANAGER_CLIENT_NAME, type ClientCertificatePaths } from '../data-dir.js';
import { KmsError } from '../errors.js';
import { openAuthenticatedStore, INTEGRITY_META } from '../integrity/authenticated-store.js';
import { decodeEnvelope } from '../integrity/record-envelope.js';
import { RecordMac } from '../integrity/record-mac.js';
import { openRawStore, type StoreOptions } from '../open-key-server.js';
import { openCaKey } from '../unseal/ca-key.js';
import { parseSealedMaster } from '../unseal/sealed-master.js';
import { openMasterWith, type MasterKeyUnlock } from '../unseal/unlock.js';
import { parseBackup, type BackupManifest } from './backup-format.js';

export interface RestoreOptions {
  readonly backup: Buffer;
  readonly dataDir: string;
  readonly store: Omit<StoreOptions, 'database'>;
  readonly unlock: MasterKeyUnlock | undefined;
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
}

export interface RestoreResult {
  readonly manifest: BackupManifest;
  readonly manager: ClientCertificatePaths;
}

const refused = (why: string) => new KmsError('RESTORE_REFUSED', `restore refused: ${why}; nothing was changed`);

/**
 * Restores a backup into a NEW data dir and an EMPTY store. Everything is checked before the first
 * write: the file (digest, count, format), the target (no master key in the dir, no record or
 * integrity marker in the store), the unseal material (it must open the backup's master key), and
 * every record's tag. Records are then written again with fresh tags (their store versions start
 * over at 1); the data dir gets the sealed master key, the CA, a new server certificate and a new
 * manager client certificate from that same CA (clients' existing certificates stay valid).
 */
export async function restoreBackup(opts: RestoreOptions): Promise<RestoreResult> {
  const parsed = parseBackup(opts.backup);
  const paths = kmsPaths(opts.dataDir);
  const entries = await readdir(opts.dataDir).catch(() => [] as string[]);
  if (entries.length > 0) throw refused(`${opts.dataDir} is not empty`);
  const storeOpts: StoreOptions = { ...opts.store, database: paths.database };
  if ((storeOpts.store ?? 'sqlite') === 'etcd') {
    // (An SQLite store lives in the data dir, which is empty.)
    const probe = await openRawStore(storeOpts);
    try {
      if ((await probe.list()).length > 0 || (await probe.readMeta(INTEGRITY_META)) !== undefined) throw refused('the target store is not empty');
    } finally {
      await probe.close();
    }
  }
  const sealedText = parsed.files.get('master.sealed')!.toString('utf8');
  const info = parseSealedMaster(sealedText, 'the backup\'s master.sealed');
  let master: Buffer;
  try {
    master = await openMasterWith(info, opts.unlock);
  } catch (err) {
    if (err instanceof KmsError) throw refused(err.message);
    throw err;
  }
  try {
    const check = new RecordMac(master);
    const records = parsed.records.map((r) => {
      const env = (() => {
        try {
          return decodeEnvelope(r.id, r.attributes);
        } catch {
          throw new KmsError('BACKUP_INVALID', `backup record ${r.id} has no integrity tag; nothing was changed`);
        }
      })();
      if (!check.verify({ ...r, attributes: env.attributes }, env.mac)) throw new KmsError('BACKUP_INVALID', `backup record ${r.id} does not authenticate under this master key; nothing was changed`);
      return { id: r.id, owner: r.owner, attributes: env.attributes, sealedKey: r.sealedKey };
    });
    check.destroy();
    const caKeyPem = openCaKey(master, Buffer.from(parsed.files.get('pki/ca.key.sealed')!.toString('latin1').trim(), 'base64'));
    const caCertPem = parsed.files.get('pki/ca.crt')!.toString('utf8');

    // Checks done: write.
    await makePrivateDir(opts.dataDir, { tighten: true });
    await makePrivateDir(paths.clientsDir);
    await writeCertificateFile(paths.caCert, caCertPem);
    await writePrivateFile(paths.caKeySealed, parsed.files.get('pki/ca.key.sealed')!, { exclusive: true });
    const server = await issueCertificate({
      ca: { certPem: caCertPem, keyPem: caKeyPem },
      commonName: 'vmcrypt-kms',
      usage: CertificateUsage.SERVER,
      dnsNames: ['localhost', ...(opts.dnsNames ?? [])],
      ipAddresses: ['127.0.0.1', ...(opts.ipAddresses ?? [])],
    });
    await writeCertificateFile(paths.serverCert, server.certPem);
    await writePrivateKeyFile(paths.serverKey, server.keyPem);
    const manager = await issueClientCertificate(opts.dataDir, MANAGER_CLIENT_NAME, undefined, { masterKey: master });
    const raw = await openRawStore(storeOpts, master);
    const { store } = await openAuthenticatedStore(raw, new RecordMac(master));
    try {
      for (const r of records) await store.insert(r);
    } finally {
      await store.close();
    }
    // Last: master.sealed makes the dir "initialised"; a crash before it leaves a dir restore refuses to reuse.
    await writePrivateFile(paths.masterSealed, sealedText, { exclusive: true });
    await fsyncDir(dirname(paths.masterSealed));
    return { manifest: parsed.manifest, manager };
  } finally {
    master.fill(0);
  }
}

/** Checks a backup without restoring it (and, given unseal material, that every record authenticates). */
export async function verifyBackup(bytes: Buffer, unlock?: MasterKeyUnlock): Promise<BackupManifest & { readonly recordsAuthenticated: boolean }> {
  const parsed = parseBackup(bytes);
  if (unlock === undefined) return { ...parsed.manifest, recordsAuthenticated: false };
  const master = await openMasterWith(parseSealedMaster(parsed.files.get('master.sealed')!.toString('utf8')), unlock);
  const mac = new RecordMac(master);
  master.fill(0);
  try {
    for (const r of parsed.records) {
      const env = decodeEnvelope(r.id, r.attributes);
      if (!mac.verify({ ...r, attributes: env.attributes }, env.mac)) throw new KmsError('BACKUP_INVALID', `backup record ${r.id} does not authenticate`);
    }
  } catch (err) {
    if (err instanceof KmsError && err.code === 'RECORD_TAMPERED') throw new KmsError('BACKUP_INVALID', err.message, { cause: err });
    throw err;
  } finally {
    mac.destroy();
  }
  return { ...parsed.manifest, recordsAuthenticated: true };
}
