import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CertificateUsage, certificateInfo, createSelfSigned, readPemFile, writeCertificateFile, writePrivateKeyFile } from '../../../pki/index.js';

export interface ManagerCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** SHA-256 of the certificate's DER, hex: what hosts pin and operators compare. */
  readonly thumbprint: string;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/**
 * Loads DIR/tls/NAME.crt + NAME.key, making a self-signed certificate at first start (key 0600).
 * `host-client` is what hosts pin at pairing; `manager-server` is the HTTPS API's certificate.
 */
export async function loadOrCreateCertificate(dataDir: string, name: 'host-client' | 'manager-server', commonName: string): Promise<ManagerCertificate> {
  const certFile = join(dataDir, 'tls', `${name}.crt`);
  const keyFile = join(dataDir, 'tls', `${name}.key`);
  if (!(await exists(certFile)) || !(await exists(keyFile))) {
    const usage = name === 'host-client' ? CertificateUsage.CLIENT : CertificateUsage.SERVER;
    const made = await createSelfSigned({ commonName, usage });
    await writePrivateKeyFile(keyFile, made.keyPem);
    await writeCertificateFile(certFile, made.certPem);
  }
  const certPem = await readPemFile(certFile);
  const keyPem = await readPemFile(keyFile, { privateKey: true });
  const thumbprint = certificateInfo(certPem).sha256Fingerprint.replace(/:/g, '').toLowerCase();
  return { certPem, keyPem, certFile, keyFile, thumbprint };
}
