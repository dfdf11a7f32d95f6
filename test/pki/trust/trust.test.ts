import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createCa, createCsr, createSelfSigned, issueCertificate, signCsr } from '../../../src/pki/index.js';
import {
  acceptClientCertificate,
  acceptSignedCertificate,
  clientCredentials,
  createSelfSignedIdentity,
  emptyTrust,
  parseTrust,
  serializeTrust,
  startCsr,
  trustServerCertificate,
  trustSummary,
  untrustServerCertificate,
} from '../../../src/pki/trust/index.js';

const DAY = 24 * 3600 * 1000;
const seal = { masterKey: randomBytes(32), context: 'provider-A' };

async function kmsPki() {
  const ca = await createCa({ commonName: 'KMS CA', days: 30 });
  const server = await issueCertificate({ ca, commonName: 'kms-a', usage: 'server', days: 30 });
  return { ca, server };
}

describe('(a) trust the KMS CA or server certificate', () => {
  it('adds CA and server certificates once each', async () => {
    const { ca, server } = await kmsPki();
    let t = trustServerCertificate(emptyTrust(), ca.certPem);
    t = trustServerCertificate(t, ca.certPem + server.certPem);
    expect(t.trustedServerCerts).toHaveLength(2);
    expect(trustSummary(t).trustedServerCerts.map((c) => c.subjectCn)).toEqual(['KMS CA', 'kms-a']);
    const fp = trustSummary(t).trustedServerCerts[1]?.sha256Fingerprint ?? '';
    expect(untrustServerCertificate(t, fp.toUpperCase()).trustedServerCerts).toHaveLength(1);
  });

  it('accepts a self-signed server certificate alone, refuses a CA-issued one without its CA', async () => {
    const { ca, server } = await kmsPki();
    const self = await createSelfSigned({ commonName: 'kms-self', usage: 'server' });
    expect(trustServerCertificate(emptyTrust(), self.certPem).trustedServerCerts).toHaveLength(1);
    expect(() => trustServerCertificate(emptyTrust(), server.certPem)).toThrow(
      expect.objectContaining({ code: 'PKI_WRONG_ISSUER', message: expect.stringContaining("'KMS CA'") }),
    );
    // With the CA already trusted (or in the same bundle) the leaf is fine.
    expect(trustServerCertificate(trustServerCertificate(emptyTrust(), ca.certPem), server.certPem).trustedServerCerts).toHaveLength(2);
    expect(trustServerCertificate(emptyTrust(), server.certPem + ca.certPem).trustedServerCerts).toHaveLength(2);
  });

  it('refuses expired, client-only and garbage certificates', async () => {
    const { ca } = await kmsPki();
    expect(() => trustServerCertificate(emptyTrust(), ca.certPem, new Date(Date.now() + 40 * DAY))).toThrow(
      expect.objectContaining({ code: 'PKI_EXPIRED' }),
    );
    const client = await issueCertificate({ ca, commonName: 'c', usage: 'client' });
    expect(() => trustServerCertificate(emptyTrust(), client.certPem)).toThrow(expect.objectContaining({ code: 'PKI_NOT_CA_CERT' }));
    expect(() => trustServerCertificate(emptyTrust(), 'hello')).toThrow(expect.objectContaining({ code: 'PKI_BAD_PEM' }));
  });
});

describe('(b) upload a client certificate + key signed by the KMS CA', () => {
  it('accepts a valid pair and seals the key', async () => {
    const { ca } = await kmsPki();
    const cli = await issueCertificate({ ca, commonName: 'vcenter', usage: 'client', days: 10 });
    const t = acceptClientCertificate(trustServerCertificate(emptyTrust(), ca.certPem), cli, seal);
    expect(t.clientIdentity).toMatchObject({ source: 'uploaded', subjectCn: 'vcenter' });
    expect(serializeTrust(t)).not.toContain('PRIVATE KEY');
    const creds = clientCredentials(parseTrust(serializeTrust(t)), seal);
    expect(creds.keyPem).toBe(cli.keyPem);
    expect(creds.ca).toEqual([ca.certPem]);
    // The sealed key does not open under another provider's context.
    expect(() => clientCredentials(t, { ...seal, context: 'provider-B' })).toThrow(expect.objectContaining({ code: 'PKI_UNSEAL_FAILED' }));
  });

  it('accepts the KMS CA passed alongside the upload', async () => {
    const root = await createCa({ commonName: 'root' });
    const cli = await issueCertificate({ ca: root, commonName: 'x', usage: 'client' });
    expect(acceptClientCertificate(emptyTrust(), { ...cli, kmsCaPem: root.certPem }, seal).clientIdentity?.subjectCn).toBe('x');
  });

  it('refuses wrong CA, key mismatch, expired, not a client cert', async () => {
    const { ca, server } = await kmsPki();
    const t = trustServerCertificate(emptyTrust(), ca.certPem);
    const other = await createCa({ commonName: 'Other CA' });
    const foreign = await issueCertificate({ ca: other, commonName: 'foreign', usage: 'client' });
    expect(() => acceptClientCertificate(t, foreign, seal)).toThrow(expect.objectContaining({ code: 'PKI_WRONG_ISSUER', message: expect.stringContaining('KMS CA') }));
    const a = await issueCertificate({ ca, commonName: 'a', usage: 'client' });
    const b = await issueCertificate({ ca, commonName: 'b', usage: 'client' });
    expect(() => acceptClientCertificate(t, { certPem: a.certPem, keyPem: b.keyPem }, seal)).toThrow(expect.objectContaining({ code: 'PKI_KEY_MISMATCH' }));
    const short = await issueCertificate({ ca, commonName: 's', usage: 'client', days: 2 });
    expect(() => acceptClientCertificate(t, short, { ...seal, now: new Date(Date.now() + 3 * DAY) })).toThrow(expect.objectContaining({ code: 'PKI_EXPIRED' }));
    expect(() => acceptClientCertificate(t, server, seal)).toThrow(expect.objectContaining({ code: 'PKI_NOT_CLIENT_CERT' }));
    expect(() => acceptClientCertificate(t, ca, seal)).toThrow(expect.objectContaining({ code: 'PKI_NOT_CLIENT_CERT' }));
    expect(() => acceptClientCertificate(emptyTrust(), a, seal)).toThrow(expect.objectContaining({ code: 'PKI_INVALID_STATE' }));
    for (const e of [foreign, a]) {
      try {
        acceptClientCertificate(t, { certPem: e.certPem, keyPem: b.keyPem }, seal);
      } catch (err) {
        expect(String((err as Error).message)).not.toContain('PRIVATE');
      }
    }
  });
});

describe('(c) CSR, signed by the KMS admin, then uploaded', () => {
  it('accepts the certificate signed from the pending CSR', async () => {
    const { ca } = await kmsPki();
    const started = await startCsr(trustServerCertificate(emptyTrust(), ca.certPem), { commonName: 'vc-csr' }, seal);
    expect(trustSummary(started.trust).pendingCsr?.commonName).toBe('vc-csr');
    const { certPem } = await signCsr({ ca, csrPem: started.csrPem, usage: 'client' });
    const t = acceptSignedCertificate(parseTrust(serializeTrust(started.trust)), { certPem }, seal);
    expect(t.pendingCsr).toBeNull();
    expect(t.clientIdentity).toMatchObject({ source: 'csr', subjectCn: 'vc-csr' });
    expect(clientCredentials(t, seal).keyPem).toContain('BEGIN PRIVATE KEY');
  });

  it('refuses: no pending CSR, another key, wrong CA, server-only usage', async () => {
    const { ca } = await kmsPki();
    const base = trustServerCertificate(emptyTrust(), ca.certPem);
    const someCert = await issueCertificate({ ca, commonName: 'z', usage: 'client' });
    expect(() => acceptSignedCertificate(base, { certPem: someCert.certPem }, seal)).toThrow(expect.objectContaining({ code: 'PKI_INVALID_STATE' }));
    const started = await startCsr(base, { commonName: 'vc' }, seal);
    const otherCsr = await createCsr({ commonName: 'vc' });
    const wrongKey = await signCsr({ ca, csrPem: otherCsr.csrPem, usage: 'client' });
    expect(() => acceptSignedCertificate(started.trust, wrongKey, seal)).toThrow(expect.objectContaining({ code: 'PKI_KEY_MISMATCH' }));
    const other = await createCa({ commonName: 'Other CA' });
    const wrongCa = await signCsr({ ca: other, csrPem: started.csrPem, usage: 'client' });
    expect(() => acceptSignedCertificate(started.trust, { ...wrongCa, kmsCaPem: ca.certPem }, seal)).toThrow(
      expect.objectContaining({ code: 'PKI_WRONG_ISSUER' }),
    );
    const srvOnly = await signCsr({ ca, csrPem: started.csrPem, usage: 'server' });
    expect(() => acceptSignedCertificate(started.trust, srvOnly, seal)).toThrow(expect.objectContaining({ code: 'PKI_NOT_CLIENT_CERT' }));
    const short = await signCsr({ ca, csrPem: started.csrPem, usage: 'client', days: 1 });
    expect(() => acceptSignedCertificate(started.trust, short, { ...seal, now: new Date(Date.now() + 2 * DAY) })).toThrow(
      expect.objectContaining({ code: 'PKI_EXPIRED' }),
    );
  });
});

describe('(d) self-signed client certificate pinned on the KMS', () => {
  it('creates and stores it, returning the fingerprint to pin', async () => {
    const { ca } = await kmsPki();
    const r = await createSelfSignedIdentity(trustServerCertificate(emptyTrust(), ca.certPem), { commonName: 'vc-pinned', days: 5 }, seal);
    expect(r.sha256Fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(r.trust.clientIdentity).toMatchObject({ source: 'self-signed', sha256Fingerprint: r.sha256Fingerprint });
    expect(trustSummary(r.trust).clientIdentity?.daysLeft).toBeGreaterThanOrEqual(4);
    expect(clientCredentials(r.trust, seal).certPem).toBe(r.certPem);
    expect(() => clientCredentials(r.trust, { ...seal, now: new Date(Date.now() + 6 * DAY) })).toThrow(expect.objectContaining({ code: 'PKI_EXPIRED' }));
  });
});

describe('persisted model', () => {
  it('refuses bad documents', () => {
    expect(() => parseTrust('nope')).toThrow(expect.objectContaining({ code: 'PKI_INVALID_ARGUMENT' }));
    expect(() => parseTrust('{"version":2}')).toThrow(/version 2/);
    expect(() => parseTrust('{"version":1,"trustedServerCerts":"x"}')).toThrow(/trustedServerCerts/);
    expect(parseTrust(serializeTrust(emptyTrust()))).toEqual(emptyTrust());
  });
});
