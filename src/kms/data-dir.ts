import { readdir, readFile, stat } from 'node:fs/promises';
import { makePrivateDir } from '../fs/private-files.js';
import { dirname, join } from 'node:path';
import { createCa, issueCertificate, readPemFile, writeCertificateFile, writePrivateKeyFile, CertificateUsage, KeyAlgorithm } from '../pki/index.js';
import { KmsError } from './errors.js';
import { createMasterKeyFile } from './master-key.js';
import { writePrivateFile } from '../fs/private-files.js';
import { fsyncDir } from '../fs/fsync-dir.js';
import { openCaKey, sealCaKey } from './unseal/ca-key.js';
import { writeAutoUnsealFile } from './unseal/auto-unseal-file.js';
import { newKey, writeSealedMaster } from './unseal/sealed-master.js';
import { splitUnsealKey } from './unseal/shares.js';
import { unlockMasterKey, type MasterKeyUnlock } from './unseal/unlock.js';

/** Where `vmcrypt kms init` puts things inside --data DIR. */
export function kmsPaths(dataDir: string) {
  return {
    dataDir,
    /** Legacy (before sealing): the master key in clear. */
    masterKey: join(dataDir, 'master.key'),
    masterSealed: join(dataDir, 'master.sealed'),
    /** The local admin channel (unseal, status): a unix socket, 0600, in the 0700 data dir. */
    adminSocket: join(dataDir, 'admin.sock'),
    database: join(dataDir, 'kms.db'),
    auditLog: join(dataDir, 'audit.log'),
    caCert: join(dataDir, 'pki', 'ca.crt'),
    caKey: join(dataDir, 'pki', 'ca.key'),
    caKeySealed: join(dataDir, 'pki', 'ca.key.sealed'),
    serverCert: join(dataDir, 'pki', 'server.crt'),
    serverKey: join(dataDir, 'pki', 'server.key'),
    clientsDir: join(dataDir, 'pki', 'clients'),
    clientCert: (name: string) => join(dataDir, 'pki', 'clients', `${name}.crt`),
    clientKey: (name: string) => join(dataDir, 'pki', 'clients', `${name}.key`),
  };
}

export type KmsPaths = ReturnType<typeof kmsPaths>;

export interface ClientCertificatePaths {
  readonly name: string;
  readonly cert: string;
  readonly key: string;
}

export interface InitResult {
  readonly paths: KmsPaths;
  readonly manager: ClientCertificatePaths;
  /** Sealed data dirs: the unseal shares, shown once and never stored. */
  readonly shares?: readonly string[];
  readonly threshold?: number;
}

/**
 * How `initDataDir` keeps the master key: sealed under an unseal key split into `shares` Shamir
 * shares (`threshold` of them unseal), optionally also written to `autoUnsealFile` (labs, tests;
 * weaker). Without it the library writes the legacy clear `master.key` (kept for existing
 * callers; `vmcrypt kms init` always seals).
 */
export interface SealOptions {
  readonly shares: number;
  readonly threshold: number;
  readonly autoUnsealFile?: string;
}

export const MANAGER_CLIENT_NAME = 'vmcrypt-manager';
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** True when DIR already holds an initialised KMS (a master key, sealed or clear). */
export async function isInitialized(dataDir: string): Promise<boolean> {
  const p = kmsPaths(dataDir);
  return (await exists(p.masterKey)) || (await exists(p.masterSealed));
}

/**
 * Creates a KMS data directory (0700): a random master key (0600), a CA, a server certificate
 * for localhost/127.0.0.1 (+ extra names) and a client certificate for the manager.
 * Refuses a directory that already has a master key.
 */
export async function initDataDir(
  dataDir: string,
  opts: { dnsNames?: readonly string[]; ipAddresses?: readonly string[]; keyAlgorithm?: KeyAlgorithm; seal?: SealOptions } = {},
): Promise<InitResult> {
  const paths = kmsPaths(dataDir);
  if (await isInitialized(dataDir)) {
    throw new KmsError('CONFIG_INVALID', `${dataDir} is already initialised (${paths.masterSealed} or ${paths.masterKey} exists)`);
  }
  await makePrivateDir(dataDir, { tighten: true });
  await makePrivateDir(paths.clientsDir);
  const keyAlgorithm = opts.keyAlgorithm ?? KeyAlgorithm.ECDSA_P256;
  const ca = await createCa({ commonName: 'vmcrypt KMS CA', keyAlgorithm });
  await writeCertificateFile(paths.caCert, ca.certPem);
  let shares: string[] | undefined;
  let master: Buffer | undefined;
  if (opts.seal === undefined) {
    await createMasterKeyFile(paths.masterKey);
    await writePrivateKeyFile(paths.caKey, ca.keyPem);
  } else {
    master = newKey();
    const unsealKey = newKey();
    try {
      shares = await splitUnsealKey(unsealKey, opts.seal.shares, opts.seal.threshold);
      if (opts.seal.autoUnsealFile !== undefined) await writeAutoUnsealFile(opts.seal.autoUnsealFile, unsealKey);
      await writeSealedCaKey(paths.caKeySealed, sealCaKey(master, ca.keyPem));
      await writeSealedMaster(paths.masterSealed, master, unsealKey, opts.seal.shares, opts.seal.threshold);
    } finally {
      unsealKey.fill(0);
    }
  }
  const server = await issueCertificate({
    ca,
    commonName: 'vmcrypt-kms',
    usage: CertificateUsage.SERVER,
    dnsNames: ['localhost', ...(opts.dnsNames ?? [])],
    ipAddresses: ['127.0.0.1', ...(opts.ipAddresses ?? [])],
    keyAlgorithm,
  });
  await writeCertificateFile(paths.serverCert, server.certPem);
  await writePrivateKeyFile(paths.serverKey, server.keyPem);
  let manager: ClientCertificatePaths;
  try {
    manager = await issueClientCertificate(dataDir, MANAGER_CLIENT_NAME, keyAlgorithm, master === undefined ? undefined : { masterKey: master });
  } finally {
    master?.fill(0);
  }
  return { paths, manager, ...(shares === undefined || opts.seal === undefined ? {} : { shares, threshold: opts.seal.threshold }) };
}

async function writeSealedCaKey(path: string, box: Buffer): Promise<void> {
  await writePrivateFile(path, box.toString('base64') + '\n', { exclusive: true });
  await fsyncDir(dirname(path));
}

/** The CA private key PEM: clear (legacy) or sealed under the master key. */
async function loadCaKey(paths: KmsPaths, unlock: MasterKeyUnlock | { masterKey: Buffer } | undefined): Promise<string> {
  if (await exists(paths.caKey)) return readPemFile(paths.caKey, { privateKey: true });
  if (!(await exists(paths.caKeySealed))) throw new KmsError('CONFIG_INVALID', `${paths.dataDir} has no CA; run vmcrypt kms init --data ${paths.dataDir}`);
  const box = Buffer.from((await readFile(paths.caKeySealed, 'latin1')).slice(0, 65536).trim(), 'base64');
  if (unlock !== undefined && 'masterKey' in unlock) return openCaKey(unlock.masterKey, box);
  const master = await unlockMasterKey(paths, unlock);
  try {
    return openCaKey(master, box);
  } finally {
    master.fill(0);
  }
}

/** Issues a client certificate (CN = name) from the data directory's CA. */
export async function issueClientCertificate(
  dataDir: string,
  name: string,
  keyAlgorithm: KeyAlgorithm = KeyAlgorithm.ECDSA_P256,
  unlock?: MasterKeyUnlock | { masterKey: Buffer },
): Promise<ClientCertificatePaths> {
  if (!NAME_RE.test(name)) throw new KmsError('CONFIG_INVALID', `client name must match ${NAME_RE.source}`);
  const paths = kmsPaths(dataDir);
  if (await exists(paths.clientCert(name))) throw new KmsError('CONFIG_INVALID', `a client certificate named ${name} already exists`);
  const ca = { certPem: await readPemFile(paths.caCert), keyPem: await loadCaKey(paths, unlock) };
  const c = await issueCertificate({ ca, commonName: name, usage: CertificateUsage.CLIENT, keyAlgorithm });
  await writePrivateKeyFile(paths.clientKey(name), c.keyPem);
  await writeCertificateFile(paths.clientCert(name), c.certPem);
  return { name, cert: paths.clientCert(name), key: paths.clientKey(name) };
}

/** Names of the issued client certificates. */
export async function listClientNames(dataDir: string): Promise<string[]> {
  const files = await readdir(kmsPaths(dataDir).clientsDir).catch(() => [] as string[]);
  return files.filter((f) => f.endsWith('.crt')).map((f) => f.slice(0, -4));
}
