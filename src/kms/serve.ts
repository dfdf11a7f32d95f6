import { startKmipServer } from '../kmip/server/server.js';
import { readPemFile } from '../pki/index.js';
import { openFileAuditLog, type AuditLog } from './audit.js';
import { kmsPaths } from './data-dir.js';
import { KmsError } from './errors.js';
import { loadMasterKey } from './master-key.js';
import { openKeyServer, type EtcdTlsFiles, type OpenedKeyServer } from './open-key-server.js';
import { SealableHandler } from './sealable-handler.js';
import { hardenKmsProcess } from './process-hardening.js';
import { startAdminSocket, type AdminRequest, type AdminResponse, type AdminSocket } from './unseal/admin-socket.js';
import { readAutoUnsealFile } from './unseal/auto-unseal-file.js';
import { openMaster, openNextMaster, readSealedMaster, type SealedMasterInfo } from './unseal/sealed-master.js';
import { combineShares, parseShare } from './unseal/shares.js';
import { rotateMasterKey, type RotationProgress } from './rotation/rotate-master.js';
import { UnsealSession } from './unseal/unseal-session.js';
import { masterKeyKind } from './unseal/unlock.js';

export type { EtcdTlsFiles } from './open-key-server.js';

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
  /** Unseal at start with the unseal key in this file (labs, tests; weaker than shares). */
  readonly autoUnsealFile?: string;
  /** The admin socket (default DIR/admin.sock); several nodes sharing one data dir need one each. */
  readonly adminSocket?: string;
  readonly log?: (line: string) => void;
}

export interface RunningKms {
  readonly host: string;
  readonly port: number;
  readonly storeKind: string;
  /** True until enough unseal shares arrived (always false for an auto-unsealed or clear-key data dir). */
  sealed(): boolean;
  /** Resolves once unsealed. */
  readonly unsealed: Promise<void>;
  close(): Promise<void>;
}

/**
 * Serves KMIP over mutual TLS until close(). A sealed data dir (master.sealed) starts SEALED:
 * it listens, answers every request with the "sealed" error, and opens its store only once
 * `vmcrypt kms unseal` brought enough shares over the admin socket (or at once with
 * `autoUnsealFile`). A legacy clear master.key still works, with a warning.
 */
export async function serveKms(opts: ServeOptions): Promise<RunningKms> {
  const paths = kmsPaths(opts.dataDir);
  const log = opts.log ?? (() => {});
  for (const problem of await hardenKmsProcess()) log(`kms: WARNING: ${problem}`);
  const certPem = await readPemFile(opts.certFile ?? paths.serverCert);
  const keyPem = await readPemFile(opts.keyFile ?? paths.serverKey, { privateKey: true });
  const caPem = await readPemFile(opts.caFile ?? paths.caCert);
  const kind = await masterKeyKind(paths);
  if (kind === 'none') throw new KmsError('MASTER_KEY_INVALID', `${opts.dataDir} has no master key: run vmcrypt kms init --data ${opts.dataDir}`);
  const info = kind === 'sealed' ? await readSealedMaster(paths.masterSealed) : undefined;
  let audit: AuditLog;
  try {
    audit = await openFileAuditLog(paths.auditLog);
  } catch (err) {
    throw new KmsError('CONFIG_INVALID', `cannot open audit log ${paths.auditLog}: ${(err as Error).message}`, { cause: err });
  }
  const handler = new SealableHandler(audit);
  let opened: OpenedKeyServer | undefined;
  let markUnsealed: () => void = () => {};
  const unsealed = new Promise<void>((r) => (markUnsealed = r));
  const storeOpts = {
    database: paths.database,
    ...(opts.store === undefined ? {} : { store: opts.store }),
    ...(opts.etcdEndpoints === undefined ? {} : { etcdEndpoints: opts.etcdEndpoints }),
    ...(opts.etcdPrefix === undefined ? {} : { etcdPrefix: opts.etcdPrefix }),
    ...(opts.etcdTls === undefined ? {} : { etcdTls: opts.etcdTls }),
  };
  const unsealWith = async (master: Buffer, next?: Buffer): Promise<void> => {
    opened = await openKeyServer(storeOpts, master, audit, log, next);
    handler.unseal(opened.keyServer);
    audit.record({ time: new Date().toISOString(), identity: '-', operation: 'unseal', result: 'success' });
    await audit.flush().catch(() => {});
    markUnsealed();
  };

  let rotation: RotationProgress | undefined;
  /** Checks the unseal material, then runs the rotation in the background (progress in `status`). */
  const startRotation = async (o: OpenedKeyServer, si: SealedMasterInfo, req: { shares?: readonly string[]; autoUnsealFile?: string }): Promise<void> => {
    let u: Buffer;
    if (req.autoUnsealFile !== undefined) u = await readAutoUnsealFile(req.autoUnsealFile);
    else {
      const parts = (req.shares ?? []).map(parseShare);
      if (parts.length < si.threshold) throw new KmsError('UNSEAL_SHARE_INVALID', `${parts.length} share(s) given; ${si.threshold} needed`);
      u = await combineShares(parts);
      for (const p of parts) p.fill(0);
    }
    try {
      openMaster(si, u).fill(0); // the right shares, or UNSEAL_FAILED now rather than in the background
    } catch (err) {
      u.fill(0);
      throw err;
    }
    rotation = { state: 'running', done: 0, total: 0 };
    audit.record({ time: new Date().toISOString(), identity: 'admin-socket', operation: 'rotate-master', result: 'success', message: 'started' });
    void rotateMasterKey({ paths, store: o.store, sealer: o.sealer, recordMac: o.recordMac, onProgress: (p) => (rotation = p) }, u)
      .then(
        () => audit.record({ time: new Date().toISOString(), identity: 'admin-socket', operation: 'rotate-master', result: 'success', message: 'done' }),
        (err: unknown) => {
          rotation = { ...(rotation ?? { done: 0, total: 0 }), state: 'failed', error: err instanceof Error ? err.message : String(err) };
          audit.record({ time: new Date().toISOString(), identity: 'admin-socket', operation: 'rotate-master', result: 'failure', message: rotation.error ?? '' });
        },
      )
      .finally(() => u.fill(0));
  };

  let admin: AdminSocket | undefined;
  try {
    if (kind === 'clear') {
      log(`kms: WARNING: ${paths.masterKey} holds the master key in clear; whoever copies the data directory has every key. Convert it: vmcrypt kms seal-migrate --data ${opts.dataDir}`);
      await unsealWith(await loadMasterKey(paths.masterKey));
    } else if (opts.autoUnsealFile !== undefined && info !== undefined) {
      const u = await readAutoUnsealFile(opts.autoUnsealFile);
      let master: Buffer;
      let next: Buffer | undefined;
      try {
        master = openMaster(info, u);
        next = openNextMaster(info, u);
      } finally {
        u.fill(0);
      }
      await unsealWith(master, next);
    }
    const session = info === undefined ? undefined : new UnsealSession(info);
    // One share at a time: two concurrent unseal calls must not open the store twice.
    let chain: Promise<unknown> = Promise.resolve();
    const adminPath = opts.adminSocket ?? paths.adminSocket;
    const handleAdmin = (req: AdminRequest): Promise<AdminResponse> => {
      const status = (): AdminResponse => ({
        sealed: opened === undefined,
        given: session?.given ?? 0,
        threshold: session?.threshold ?? 0,
        ...(rotation === undefined ? {} : { rotation }),
      });
      if (req.op === 'status') return Promise.resolve(status());
      if (req.op === 'rotate') {
        if (opened === undefined) return Promise.reject(new KmsError('SEALED', 'unseal the KMS before rotating its master key'));
        if (info === undefined) return Promise.reject(new KmsError('CONFIG_INVALID', 'this data dir has a clear master.key: run vmcrypt kms seal-migrate first'));
        if (rotation?.state === 'running') return Promise.resolve(status());
        return startRotation(opened, info, req).then(status);
      }
      const next = chain.then(async () => {
        if (opened !== undefined || session === undefined) return status();
        const r = await session.add(req.share);
        audit.record({ time: new Date().toISOString(), identity: 'admin-socket', operation: 'unseal-share', result: 'success', message: r.unsealed ? 'threshold reached' : `${r.given} of ${r.threshold}` });
        if (r.unsealed) {
          r.unsealKey.fill(0);
          await unsealWith(r.master, r.next);
        }
        return status();
      });
      chain = next.catch(() => {});
      return next;
    };
    try {
      admin = await startAdminSocket(adminPath, handleAdmin);
    } catch (err) {
      // An unsealed node sharing a data dir with another (a KMS cluster) needs no admin socket of its own.
      if (opened === undefined || opts.adminSocket !== undefined) throw err;
      log(`kms: no admin socket (${(err as Error).message})`);
      admin = { close: async () => {} };
    }
    if (opened === undefined) log(`kms: SEALED: answering every request with "sealed" until ${info?.threshold ?? '?'} unseal shares are entered (vmcrypt kms unseal --data ${opts.dataDir})`);
  } catch (err) {
    await admin?.close();
    await opened?.close();
    await audit.close();
    throw err;
  }

  let server;
  try {
    server = await startKmipServer({
      host: opts.host,
      port: opts.port,
      certPem,
      keyPem,
      caPem,
      handler,
      ...(opts.pinnedFingerprints === undefined ? {} : { pinnedFingerprints: opts.pinnedFingerprints }),
      ...(opts.log === undefined ? {} : { log: opts.log }),
    });
  } catch (err) {
    await admin.close();
    await opened?.close();
    await audit.close();
    throw new KmsError('CONFIG_INVALID', `cannot listen on ${opts.host}:${opts.port}: ${(err as Error).message}`, { cause: err });
  }
  const running = server;
  const adminSocket = admin;
  return {
    host: running.host,
    port: running.port,
    storeKind: opts.store ?? 'sqlite',
    sealed: () => opened === undefined,
    unsealed,
    async close() {
      await running.close();
      await adminSocket.close();
      await opened?.close();
      await audit.close();
    },
  };
}
