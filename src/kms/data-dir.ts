import { readdir, stat } from 'node:fs/promises';
import { makePrivateDir } from '../fs/private-files.js';
import { join } from 'node:path';
import { createCa, issueCertificate, readPemFile, writeCertificateFile, writePrivateKeyFile, CertificateUsage, KeyAlgorithm } from '../pki/index.js';
import { KmsError } from './errors.js';
import { createMasterKeyFile } from './master-key.js';

/** Where `vmcrypt kms init` puts things inside --data DIR. */
export function kmsPaths(dataDir: string) {
  return {
    dataDir,
    masterKey: join(dataDir, 'master.key'),
    database: join(dataDir, 'kms.db'),
    auditLog: join(dataDir, 'audit.log'),
    caCert: join(dataDir, 'pki', 'ca.crt'),
    caKey: join(dataDir, 'pki', 'ca.key'),
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

/** True when DIR already holds an initialised KMS (a master key). */
export async function isInitialized(dataDir: string): Promise<boolean> {
  return exists(kmsPaths(dataDir).masterKey);
}

/**
 * Creates a KMS data directory (0700): a random master key (0600), a CA, a server certificate
 * for localhost/127.0.0.1 (+ extra names) and a client certificate for the manager.
 * Refuses a directory that already has a master key.
 */
export async function initDataDir(
  dataDir: string,
  opts: { dnsNames?: readonly string[]; ipAddresses?: readonly string[]; keyAlgorithm?: KeyAlgorithm } = {},
): Promise<InitResult> {
  const paths = kmsPaths(dataDir);
  if (await exists(paths.masterKey)) {
    throw new KmsError('CONFIG_INVALID', `${dataDir} is already initialised (${paths.masterKey} exists)`);
  }
  await makePrivateDir(dataDir, { tighten: true });
  await makePrivateDir(paths.clientsDir);
  await createMasterKeyFile(paths.masterKey);
  const keyAlgorithm = opts.keyAlgorithm ?? KeyAlgorithm.ECDSA_P256;
  const ca = await createCa({ commonName: 'vmcrypt KMS CA', keyAlgorithm });
  await writeCertificateFile(paths.caCert, ca.certPem);
  await writePrivateKeyFile(paths.caKey, ca.keyPem);
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
  const manager = await issueClientCertificate(dataDir, MANAGER_CLIENT_NAME, keyAlgorithm);
  return { paths, manager };
}

/** Issues a client certificate (CN = name) from the data directory's CA. */
export async function issueClientCertificate(
  dataDir: string,
  name: string,
  keyAlgorithm: KeyAlgorithm = KeyAlgorithm.ECDSA_P256,
): Promise<ClientCertificatePaths> {
  if (!NAME_RE.test(name)) throw new KmsError('CONFIG_INVALID', `client name must match ${NAME_RE.source}`);
  const paths = kmsPaths(dataDir);
  if (!(await exists(paths.caKey))) throw new KmsError('CONFIG_INVALID', `${dataDir} has no CA; run vmcrypt kms init --data ${dataDir}`);
  if (await exists(paths.clientCert(name))) throw new KmsError('CONFIG_INVALID', `a client certificate named ${name} already exists`);
  const ca = { certPem: await readPemFile(paths.caCert), keyPem: await readPemFile(paths.caKey, { privateKey: true }) };
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
