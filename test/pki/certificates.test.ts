import { describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import {
  certificateInfo,
  createCa,
  createCsr,
  createSelfSigned,
  issueCertificate,
  KeyAlgorithm,
  PkiError,
  signCsr,
} from '../../src/pki/index.js';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

describe('pki certificates', () => {
  it('creates a CA that verifies its own signature', async () => {
    const ca = await createCa({ commonName: 'vmcrypt test CA', days: 30 });
    const info = certificateInfo(ca.certPem);
    expect(info).toMatchObject({ subjectCn: 'vmcrypt test CA', issuerCn: 'vmcrypt test CA', isCa: true });
    expect(info.daysLeft).toBeGreaterThanOrEqual(29);
    expect(info.sha256Fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(ca.keyPem).toContain('BEGIN PRIVATE KEY');
    const c = new X509Certificate(ca.certPem);
    expect(c.verify(c.publicKey)).toBe(true);
  });

  it('issues server certificates with loopback SANs and serverAuth', async () => {
    const ca = await createCa({ commonName: 'CA' });
    const srv = await issueCertificate({ ca, commonName: 'kms-a', usage: 'server', dnsNames: ['kms-a.lab'] });
    const c = new X509Certificate(srv.certPem);
    expect(c.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    expect(c.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(c.checkPrivateKey((await import('node:crypto')).createPrivateKey(srv.keyPem))).toBe(true);
    expect(c.subjectAltName).toContain('DNS:localhost');
    expect(c.subjectAltName).toContain('DNS:kms-a.lab');
    expect(c.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(c.checkIP('127.0.0.1')).toBe('127.0.0.1');
    const info = certificateInfo(srv.certPem);
    expect(info).toMatchObject({ subjectCn: 'kms-a', issuerCn: 'CA', isCa: false, extendedKeyUsage: [SERVER_AUTH] });
  });

  it('issues client and dual-use certificates', async () => {
    const ca = await createCa({ commonName: 'CA' });
    const cli = await issueCertificate({ ca, commonName: 'manager', usage: 'client' });
    expect(certificateInfo(cli.certPem).extendedKeyUsage).toEqual([CLIENT_AUTH]);
    expect(new X509Certificate(cli.certPem).subjectAltName).toBeUndefined();
    const both = await issueCertificate({ ca, commonName: 'host-1', usage: 'both' });
    expect([...certificateInfo(both.certPem).extendedKeyUsage].sort()).toEqual([SERVER_AUTH, CLIENT_AUTH].sort());
  });

  it('supports RSA 2048 keys', async () => {
    const ca = await createCa({ commonName: 'RSA CA', keyAlgorithm: KeyAlgorithm.RSA_2048 });
    const leaf = await issueCertificate({ ca, commonName: 'r', usage: 'server', keyAlgorithm: KeyAlgorithm.RSA_2048 });
    const c = new X509Certificate(leaf.certPem);
    expect(c.publicKey.asymmetricKeyType).toBe('rsa');
    expect(c.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
  });

  it('creates self-signed client certificates', async () => {
    const ss = await createSelfSigned({ commonName: 'vcenter', usage: 'client', days: 10 });
    const c = new X509Certificate(ss.certPem);
    expect(c.verify(c.publicKey)).toBe(true);
    expect(certificateInfo(ss.certPem)).toMatchObject({ subjectCn: 'vcenter', issuerCn: 'vcenter', isCa: false });
  });

  it('creates a CSR and signs it', async () => {
    const ca = await createCa({ commonName: 'KMS CA' });
    const { csrPem, keyPem } = await createCsr({ commonName: 'vc-01' });
    expect(csrPem).toContain('BEGIN CERTIFICATE REQUEST');
    const { certPem } = await signCsr({ ca, csrPem, usage: 'client' });
    const c = new X509Certificate(certPem);
    expect(c.checkPrivateKey((await import('node:crypto')).createPrivateKey(keyPem))).toBe(true);
    expect(certificateInfo(certPem)).toMatchObject({ subjectCn: 'vc-01', issuerCn: 'KMS CA' });
  });

  it('signs RSA CSRs with keyEncipherment, refuses weak CSR keys', async () => {
    const ca = await createCa({ commonName: 'CA' });
    const rsa = await createCsr({ commonName: 'rsa-client', keyAlgorithm: KeyAlgorithm.RSA_2048 });
    const { certPem } = await signCsr({ ca, csrPem: rsa.csrPem, usage: 'client' });
    const { x509 } = await import('../../src/pki/x509.js');
    const ku = new x509.X509Certificate(certPem).getExtension(x509.KeyUsagesExtension);
    expect((ku?.usages ?? 0) & x509.KeyUsageFlags.keyEncipherment).toBeTruthy();
    const { webcrypto } = await import('node:crypto');
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]) };
    const keys = await webcrypto.subtle.generateKey(alg, false, ['sign', 'verify']);
    const weak = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=weak', keys, signingAlgorithm: alg } as never);
    await expect(signCsr({ ca, csrPem: weak.toString('pem'), usage: 'client' })).rejects.toMatchObject({ code: 'PKI_UNSUPPORTED_KEY' });
  });

  it('refuses a tampered CSR, a non-CA issuer and bad arguments', async () => {
    const ca = await createCa({ commonName: 'CA' });
    const { csrPem } = await createCsr({ commonName: 'x' });
    const b64 = csrPem.split('\n').filter((l) => !l.startsWith('-----')).join('');
    const der = Buffer.from(b64, 'base64');
    der[der.length - 5] = (der[der.length - 5] ?? 0) ^ 0x01; // inside the signature
    const bad = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    await expect(signCsr({ ca, csrPem: bad, usage: 'client' })).rejects.toMatchObject({ code: expect.stringMatching(/PKI_BAD_CSR_SIGNATURE|PKI_BAD_PEM/) });
    const leaf = await issueCertificate({ ca, commonName: 'leaf', usage: 'client' });
    await expect(issueCertificate({ ca: leaf, commonName: 'y', usage: 'client' })).rejects.toMatchObject({ code: 'PKI_NOT_CA_CERT' });
    const other = await createCa({ commonName: 'other' });
    await expect(issueCertificate({ ca: { certPem: ca.certPem, keyPem: other.keyPem }, commonName: 'y', usage: 'client' })).rejects.toMatchObject({
      code: 'PKI_KEY_MISMATCH',
    });
    await expect(createCa({ commonName: '' })).rejects.toBeInstanceOf(PkiError);
    await expect(createCa({ commonName: 'x', days: 0 })).rejects.toMatchObject({ code: 'PKI_INVALID_ARGUMENT' });
    await expect(issueCertificate({ ca, commonName: 'x', usage: 'client', ipAddresses: ['nope'] })).rejects.toMatchObject({ code: 'PKI_INVALID_ARGUMENT' });
    expect(() => certificateInfo('garbage')).toThrow(PkiError);
  });
});
