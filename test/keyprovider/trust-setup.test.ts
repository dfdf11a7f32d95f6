import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { kmsNode, makeKmsDataDir, type KmsDataDir, type KmsNode } from './kms-nodes.js';
import { KeyProvider, tlsIdentityFromTrust } from '../../src/keyprovider/index.js';
import { kmsPaths } from '../../src/kms/data-dir.js';
import { createSelfSigned, signCsr, CertificateUsage } from '../../src/pki/index.js';
import {
  acceptClientCertificate,
  acceptSignedCertificate,
  createSelfSignedIdentity,
  emptyTrust,
  startCsr,
  trustServerCertificate,
  type ProviderTrust,
} from '../../src/pki/trust/index.js';

/**
 * The four trust setups vCenter offers (issue 4), each used for real: a key provider built from
 * the trust model talks to `vmcrypt kms serve` processes.
 */
describe('key provider trust setup against real KMS processes', () => {
  let data: KmsDataDir;
  let node: KmsNode;
  let caPem: string;
  const seal = { masterKey: randomBytes(32), context: 'provider-1' };
  const extra: KmsNode[] = [];

  async function works(trust: ProviderTrust, port: number): Promise<string> {
    const provider = new KeyProvider({
      name: 'p',
      tls: tlsIdentityFromTrust(trust, seal),
      hungTimeoutMs: 20_000,
      servers: [{ name: 'kms', host: '127.0.0.1', port }],
    });
    try {
      const uid = await provider.create({ name: 'trust-check' });
      const k = await provider.get(uid);
      k.material.fill(0);
      return uid;
    } finally {
      await provider.close();
    }
  }

  beforeAll(async () => {
    data = await makeKmsDataDir();
    node = await kmsNode('kms', data);
    await node.start();
    caPem = await readFile(kmsPaths(data.dir).caCert, 'utf8');
  });
  afterAll(async () => {
    for (const n of [node, ...extra]) await n?.stop();
    await data?.remove();
  });

  it('(a)+(b) trust the KMS CA, upload a client certificate + key it signed', async () => {
    const issued = await data.identity('uploaded-client');
    let trust = trustServerCertificate(emptyTrust(), caPem);
    trust = acceptClientCertificate(trust, { certPem: String(issued.cert), keyPem: String(issued.key) }, seal);
    expect(await works(trust, node.port)).not.toBe('');
  });

  it('(c) generate a CSR, have the KMS CA sign it, upload the signed certificate', async () => {
    let trust = trustServerCertificate(emptyTrust(), caPem);
    const started = await startCsr(trust, { commonName: 'csr-client' }, seal);
    trust = started.trust;
    const p = kmsPaths(data.dir);
    const { certPem } = await signCsr({
      ca: { certPem: caPem, keyPem: await readFile(p.caKey, 'utf8') },
      csrPem: started.csrPem,
      usage: CertificateUsage.CLIENT,
    });
    trust = acceptSignedCertificate(trust, { certPem }, seal);
    expect(await works(trust, node.port)).not.toBe('');
  });

  it('(d) a self-signed client certificate, pinned on the KMS by fingerprint', async () => {
    const made = await createSelfSignedIdentity(trustServerCertificate(emptyTrust(), caPem), { commonName: 'pinned-client' }, seal);
    const pinned = await kmsNode('kms-pinned', data, { extraArgs: ['--pin', made.sha256Fingerprint] });
    extra.push(pinned);
    await pinned.start();
    expect(await works(made.trust, pinned.port)).not.toBe('');
    // The node without the pin refuses that identity.
    const refused = await works(made.trust, node.port).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as { code?: string }).code).toBe('KEY_PROVIDER_UNREACHABLE');
  });

  it('(a) trusting the KMS own self-signed server certificate instead of a CA', async () => {
    const server = await createSelfSigned({ commonName: 'kms-self', usage: CertificateUsage.SERVER });
    const certFile = join(data.dir, 'self-server.crt');
    const keyFile = join(data.dir, 'self-server.key');
    await writeFile(certFile, server.certPem);
    await writeFile(keyFile, server.keyPem, { mode: 0o600 });
    const selfNode = await kmsNode('kms-self', data, { extraArgs: ['--cert', certFile, '--key', keyFile] });
    extra.push(selfNode);
    await selfNode.start();
    const issued = await data.identity('self-trust-client');
    let trust = trustServerCertificate(emptyTrust(), server.certPem);
    trust = acceptClientCertificate(trust, { certPem: String(issued.cert), keyPem: String(issued.key), kmsCaPem: caPem }, seal);
    expect(await works(trust, selfNode.port)).not.toBe('');
    // Trusting only the KMS CA does not make a server with some other certificate trusted.
    const caOnly = acceptClientCertificate(trustServerCertificate(emptyTrust(), caPem), { certPem: String(issued.cert), keyPem: String(issued.key) }, seal);
    const err = await works(caOnly, selfNode.port).catch((e: unknown) => e);
    expect((err as { attempts?: { code: string }[] }).attempts?.[0]?.code).toBe('KMIP_CLIENT_TLS');
  });
});
