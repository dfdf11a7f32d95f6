import { randomBytes } from 'node:crypto';
import { startKmipServer } from '../kmip/server/server.js';
import { readPemFile } from '../pki/index.js';
import { openFileAuditLog, type AuditLog } from './audit.js';
import { kmsPaths } from './data-dir.js';
import { KmsError } from './errors.js';
import { KeyServer } from './key-server.js';
import { loadMasterKey } from './master-key.js';
import { KeySealer } from './key-material-seal.js';
import { openSqliteStore } from './store/sqlite.js';
import { openAuthenticatedStore } from './integrity/authenticated-store.js';
import { RecordMac } from './integrity/record-mac.js';
import type { KeyStore } from './store/types.js';

export interface ServeOptions {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  /** Override the generated PKI (operator's own CA and server certificate). */
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly caFile?: string;
  readonly pinnedFingerprints?: readonly string[];
  readonly store?: 'sqlite' | 'etcd';
  readonly etcdEndpoints?: readonly string[];
  readonly etcdPrefix?: string;
  /** TLS to the etcd members: their CA, and this node's client certificate + key (etcd --client-cert-auth). */
  readonly etcdTls?: EtcdTlsFiles;
  readonly log?: (line: string) => void;
}

export interface EtcdTlsFiles {
  readonly caFile: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

export interface RunningKms {
  readonly host: string;
  readonly port: number;
  readonly storeKind: string;
  close(): Promise<void>;
}

/** Opens the store, unlocks the master key, and serves KMIP over mutual TLS until close(). */
export async function serveKms(opts: ServeOptions): Promise<RunningKms> {
  const paths = kmsPaths(opts.dataDir);
  const certPem = await readPemFile(opts.certFile ?? paths.serverCert);
  const keyPem = await readPemFile(opts.keyFile ?? paths.serverKey, { privateKey: true });
  const caPem = await readPemFile(opts.caFile ?? paths.caCert);
  let audit: AuditLog;
  try {
    audit = await openFileAuditLog(paths.auditLog);
  } catch (err) {
    throw new KmsError('CONFIG_INVALID', `cannot open audit log ${paths.auditLog}: ${(err as Error).message}`, { cause: err });
  }
  const master = await loadMasterKey(paths.masterKey).catch(async (err: unknown) => {
    await audit.close();
    throw err;
  });
  const sealer = new KeySealer(master);
  const recordMac = new RecordMac(master);
  let store: KeyStore;
  try {
    if ((opts.store ?? 'sqlite') === 'etcd') {
      if (opts.etcdEndpoints === undefined || opts.etcdEndpoints.length === 0) {
        throw new KmsError('CONFIG_INVALID', '--store etcd needs --etcd URL[,URL…]');
      }
      // Loaded lazily: the etcd client is only needed by clustered key servers.
      const { openEtcdKeyStore } = await import('./store/etcd.js');
      const { masterKeyIdOf } = await import('./store/etcd-master-key-id.js');
      const tls = opts.etcdTls === undefined ? undefined : await readEtcdTls(opts.etcdTls);
      store = await openEtcdKeyStore({
        endpoints: [...opts.etcdEndpoints],
        masterKeyId: masterKeyIdOf(master),
        ...(opts.etcdPrefix === undefined ? {} : { prefix: opts.etcdPrefix }),
        ...(tls === undefined ? {} : { tls }),
      });
    } else {
      store = await openSqliteStore({ path: paths.database });
    }
  } catch (err) {
    sealer.destroy();
    recordMac.destroy();
    await audit.close();
    throw err;
  } finally {
    master.fill(0);
  }
  try {
    store = await protectRecords(store, recordMac, audit, opts.log);
  } catch (err) {
    sealer.destroy();
    await audit.close();
    throw err;
  }
  const keyServer = new KeyServer({ store, sealer, audit, now: () => new Date(), randomBytes });
  let server;
  try {
    server = await startKmipServer({
      host: opts.host,
      port: opts.port,
      certPem,
      keyPem,
      caPem,
      handler: keyServer,
      ...(opts.pinnedFingerprints === undefined ? {} : { pinnedFingerprints: opts.pinnedFingerprints }),
      ...(opts.log === undefined ? {} : { log: opts.log }),
    });
  } catch (err) {
    await store.close();
    await audit.close();
    sealer.destroy();
    throw new KmsError('CONFIG_INVALID', `cannot listen on ${opts.host}:${opts.port}: ${(err as Error).message}`, { cause: err });
  }
  const running = server;
  return {
    host: running.host,
    port: running.port,
    storeKind: store.kind,
    async close() {
      await running.close();
      await store.close();
      await audit.close();
      sealer.destroy();
    },
  };
}

async function readEtcdTls(files: EtcdTlsFiles): Promise<{ caPem: string; certPem?: string; keyPem?: string }> {
  const caPem = await readPemFile(files.caFile);
  if (files.certFile === undefined || files.keyFile === undefined) return { caPem };
  return { caPem, certPem: await readPemFile(files.certFile), keyPem: await readPemFile(files.keyFile, { privateKey: true }) };
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
