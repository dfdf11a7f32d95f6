import { createHash, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attr, AttributeName } from '../../src/kmip/attributes.js';
import { CertificateType, CryptographicAlgorithm as Alg, HashingAlgorithm, KeyFormatType as F, ObjectType, ResultReason } from '../../src/kmip/enums.js';
import { Operation } from '../../src/kmip/operation-codes.js';
import { encodeGetRequest } from '../../src/kmip/payloads/get.js';
import type { ObjectContent } from '../../src/kmip/objects/object-content.js';
import { createSelfSigned, KeyAlgorithm } from '../../src/pki/index.js';
import { openHarness } from './harness.js';
import { objectOps, valueOf } from './objects-helpers.js';

let h: Awaited<ReturnType<typeof openHarness>>;
let ecDer: Buffer;
let rsaDer: Buffer;
beforeAll(async () => {
  h = await openHarness();
  ecDer = new X509Certificate((await createSelfSigned({ commonName: 'ec-cert', usage: 'client' })).certPem).raw;
  rsaDer = new X509Certificate((await createSelfSigned({ commonName: 'rsa-cert', usage: 'server', keyAlgorithm: KeyAlgorithm.RSA_2048 })).certPem).raw;
});
afterAll(async () => {
  await h.close();
});
const ops = objectOps(() => h);
const cert = (value: Buffer, certificateType: number = CertificateType.X509): ObjectContent => ({ objectType: ObjectType.Certificate, certificate: { certificateType, value } });

describe('X.509 certificates: Register and Get (KMIP 1.4 §2.2.1)', () => {
  it.each([
    ['EC P-256', () => ecDer, Alg.EC, 256],
    ['RSA-2048', () => rsaDer, Alg.RSA, 2048],
  ])('%s: the DER comes back byte for byte; type, length and the subject key recorded', async (_label, der, alg, bits) => {
    const id = await ops.registered(cert(Buffer.from(der())), [attr.name(`cert-${bits}`)]);
    expect(await ops.content(id)).toEqual(cert(der()));
    const attrs = await ops.attributes(id);
    expect(valueOf(attrs, AttributeName.ObjectType)).toBe(ObjectType.Certificate);
    expect(valueOf(attrs, 'Certificate Type')).toBe(CertificateType.X509);
    expect(valueOf(attrs, 'Certificate Length')).toBe(der().length);
    expect(valueOf(attrs, AttributeName.CryptographicAlgorithm)).toBe(alg);
    expect(valueOf(attrs, AttributeName.CryptographicLength)).toBe(bits);
    const digest = attrs.find((a) => a.name === AttributeName.Digest)?.value;
    expect(digest?.type === 'Structure' && digest.value.map((v) => (Buffer.isBuffer(v.value) ? v.value.toString('hex') : v.value))).toEqual([HashingAlgorithm.SHA256, createHash('sha256').update(der()).digest('hex')]);
    // A certificate has no Key Block: no Key Format Type applies.
    expect((await ops.get(id, F.X509))?.resultReason).toBe(ResultReason.KeyFormatTypeNotSupported);
    // Owned like any object; Destroy removes the content.
    const other = await h.send('mallory', [{ operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: id }) }]);
    expect(other.batchItems[0]?.resultReason).toBe(ResultReason.PermissionDenied);
    expect((await ops.destroy(id))?.resultMessage).toBeUndefined();
    expect((await h.store.get(id))?.sealedKey).toBeNull();
    expect((await ops.get(id))?.resultReason).toBe(ResultReason.ItemNotFound);
  });

  it.each([
    ['PEM instead of DER', () => Buffer.from(new X509Certificate(ecDer).toString()), CertificateType.X509],
    ['bytes after the certificate', () => Buffer.concat([ecDer, Buffer.from([0])]), CertificateType.X509],
    ['a truncated certificate', () => ecDer.subarray(0, ecDer.length - 10), CertificateType.X509],
    ['garbage', () => Buffer.from('not a certificate'), CertificateType.X509],
    ['a PGP certificate', () => ecDer, CertificateType.PGP],
  ])('refuses %s (Invalid Field), storing nothing', async (_label, value, type) => {
    const before = (await h.store.list()).length;
    expect((await ops.register(cert(Buffer.from(value()), type)))?.resultReason).toBe(ResultReason.InvalidField);
    expect((await h.store.list()).length).toBe(before);
  });

  it('refuses a template naming another algorithm or the server-set Certificate Length', async () => {
    expect((await ops.register(cert(Buffer.from(ecDer)), [attr.enumeration(AttributeName.CryptographicAlgorithm, Alg.RSA)]))?.resultReason).toBe(ResultReason.InvalidField);
    expect((await ops.register(cert(Buffer.from(ecDer)), [attr.int('Certificate Length', 1)]))?.resultReason).toBe(ResultReason.InvalidField);
  });
});
