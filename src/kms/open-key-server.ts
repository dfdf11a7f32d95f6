import { randomBytes } from 'node:crypto';
import { readPemFile } from '../pki/index.js';
import type { AuditLog } from './audit.js';
import { KmsError } from './errors.js';
import { KeyServer } from './key-server.js';
import { KeySealer } from './key-material-seal.js';
import { openAuthenticatedStore } from './integrity/authenticated-store.js';
import { RecordMac } from './integrity/record-mac.js';
import { openSqliteStore } from './store/sqlite.js';
import type { KeyStore } from './store/types.js';

export interface StoreOptions {
  readonly database: string;
  readonly store?: 'sqlite' | 'etcd';
  readonly etcdEndpoints?: readonly string[];
  readonly etcdPrefix?: string;
  /** TLS to the etcd members: their CA, and this node's client certificate + key (etcd --client-cert-auth). */
  readonly etcdTls?: EtcdTlsFiles;
}

export interface EtcdTlsFiles {
  readonly caFile: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

export interface OpenedKeyServer {
  readonly keyServer: KeyServer;
  readonly store: KeyStore;
  readonly sealer: KeySealer;
  readonly recordMac: RecordMac;
  close(): Promise<void>;
}

/**
 * The raw store (SQLite file or etcd cluster), without record authentication. Without `master`
 * (backup, restore checks) the etcd master key id is neither checked nor recorded.
 */
export async function openRawStore(opts: StoreOptions, master?: Buffer): Promise<KeyStore> {
  if ((opts.store ?? 'sqlite') === 'etcd') {
    if (opts.etcdEndpoints === undefined || opts.etcdEndpoints.length === 0) {
      throw new KmsError('CONFIG_INVALID', '--store etcd needs --etcd URL[,URL…]');
    }
    // Loaded lazily: the etcd client is only needed by clustered key servers.
    const { openEtcdKeyStore } = await import('./store/etcd.js');
    const { masterKeyIdOf } = await import('./store/etcd-master-key-id.js');
    const tls = opts.etcdTls === undefined ? undefined : await readEtcdTls(opts.etcdTls);
    return openEtcdKeyStore({
      endpoints: [...opts.etcdEndpoints],
      ...(master === undefined ? {} : { masterKeyId: masterKeyIdOf(master) }),
      ...(opts.etcdPrefix === undefined ? {} : { prefix: opts.etcdPrefix }),
      ...(tls === undefined ? {} : { tls }),
    });
  }
  return openSqliteStore({ path: opts.database });
}

/**
 * Everything that needs the master key: the sealer, the record MAC, the store (wrapped in
 * record authentication, migrated once if older) and the KeyServer. `master` is zeroed here.
 */
export async function openKeyServer(opts: StoreOptions, master: Buffer, audit: AuditLog, log?: (line: string) => void, next?: Buffer): Promise<OpenedKeyServer> {
  const sealer = new KeySealer(master);
  const recordMac = new RecordMac(master);
  if (next !== undefined) {
    // A master-key rotation was under way: seal and tag under the new key, read under both.
    sealer.rotateTo(next);
    recordMac.rotateTo(next);
    log?.('kms: a master-key rotation did not finish: both keys are in use; run vmcrypt kms rotate-master again to complete it');
  }
  let raw: KeyStore;
  try {
    raw = await openRawStore(opts, master).catch(async (err: unknown) => {
      // The rotation's last steps record the new key's id in etcd before master.sealed drops the old key.
      if (next !== undefined && err instanceof KmsError && err.code === 'CONFIG_INVALID') return openRawStore(opts, next);
      throw err;
    });
  } catch (err) {
    sealer.destroy();
    recordMac.destroy();
    throw err;
  } finally {
    master.fill(0);
    next?.fill(0);
  }
  let store: KeyStore;
  try {
    store = await protectRecords(raw, recordMac, audit, log);
  } catch (err) {
    sealer.destroy();
    throw err;
  }
  const keyServer = new KeyServer({ store, sealer, audit, now: () => new Date(), randomBytes });
  return {
    keyServer,
    store,
    sealer,
    recordMac,
    async close() {
      try {
        await store.close();
      } finally {
        sealer.destroy();
      }
    },
  };
}

/** Wraps the store in record authentication (migrating an older store once); refusals go to the audit log. */
async function protectRecords(inner: KeyStore, mac: RecordMac, audit: AuditLog, log: ((line: string) => void) | undefined): Promise<KeyStore> {
  try {
    const { store, report } = await openAuthenticatedStore(inner, mac, {
      onFailure: (f) =>
        audit.record({ time: new Date().toISOString(), identity: '-', operation: 'integrity', objectId: f.id, result: 'failure', reason: f.code, message: f.message }),
    });
    if (report.migrated > 0) log?.(`kms: record integrity: ${report.migrated} records of an older store tagged`);
    if (report.refused > 0) log?.(`kms: record integrity: ${report.refused} records REFUSED (edited outside the KMS); see the audit log`);
    await audit.flush();
    return store;
  } catch (err) {
    mac.destroy();
    await inner.close();
    throw err;
  }
}

async function readEtcdTls(files: EtcdTlsFiles): Promise<{ caPem: string; certPem?: string; keyPem?: string }> {
  const caPem = await readPemFile(files.caFile);
  if (files.certFile === undefined || files.keyFile === undefined) return { caPem };
  return { caPem, certPem: await readPemFile(files.certFile), keyPem: await readPemFile(files.keyFile, { privateKey: true }) };
}
