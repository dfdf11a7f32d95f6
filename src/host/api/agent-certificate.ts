import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { certificateInfo, createSelfSigned, writeCertificateFile, writePrivateKeyFile } from '../../pki/index.js';

/**
 * The agent's TLS identity: a self-signed server certificate made on first start
 * (DATA/tls/host.crt, host.key 0600), like an ESXi host's. Its SHA-256 fingerprint is the
 * thumbprint the operator confirms when adding the host to a manager.
 */
export async function loadOrCreateIdentity(dataDir: string, name: string): Promise<{ certPem: string; keyPem: string; thumbprint: string }> {
  const dir = join(dataDir, 'tls');
  const certFile = join(dir, 'host.crt');
  const keyFile = join(dir, 'host.key');
  let certPem = await readFile(certFile, 'utf8').catch(() => undefined);
  let keyPem = await readFile(keyFile, 'utf8').catch(() => undefined);
  if (certPem === undefined || keyPem === undefined) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const made = await createSelfSigned({ commonName: name, usage: 'server' });
    await writePrivateKeyFile(keyFile, made.keyPem);
    await writeCertificateFile(certFile, made.certPem);
    certPem = made.certPem;
    keyPem = made.keyPem;
  }
  return { certPem, keyPem, thumbprint: certificateInfo(certPem).sha256Fingerprint };
}
