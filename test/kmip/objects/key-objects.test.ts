import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { attr, AttributeName } from '../../../src/kmip/attributes.js';
import { CertificateType, CryptographicAlgorithm as Alg, KeyFormatType as F, ObjectType, RecommendedCurve, SplitKeyMethod } from '../../../src/kmip/enums.js';
import { KmipError } from '../../../src/kmip/errors.js';
import { decodeAsymmetricKey, encodeAsymmetricKey } from '../../../src/kmip/objects/asymmetric-key.js';
import { decodeCertificate, encodeCertificate, MAX_CERTIFICATE_BYTES } from '../../../src/kmip/objects/certificate.js';
import { MAX_KEY_BYTES, wipeKeyMaterial } from '../../../src/kmip/objects/key-block.js';
import { decodeObjectContent, encodeObjectContent, wipeObjectContent, type ObjectContent } from '../../../src/kmip/objects/object-content.js';
import { decodeSplitKey, encodeSplitKey, type SplitKey } from '../../../src/kmip/objects/split-key.js';
import { decodeTemplate, encodeTemplate, MAX_TEMPLATE_ATTRIBUTES } from '../../../src/kmip/objects/template.js';
import { Tag } from '../../../src/kmip/tags.js';
import { decodeTtlv, encodeTtlv, ttlv, type TtlvItem } from '../../../src/kmip/ttlv/index.js';
import { repoRoot } from '../../helpers/cli.js';

const run = promisify(execFile);
const hex = (item: TtlvItem) => encodeTtlv(item).toString('hex');
const parse = (h: string | undefined) => decodeTtlv(Buffer.from(h ?? '', 'hex'));
const code = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (err) {
    return err instanceof KmipError ? err.code : String(err);
  }
};
const split = (over: Partial<SplitKey> = {}): SplitKey => ({
  parts: 3, keyPartIdentifier: 1, threshold: 2, method: SplitKeyMethod.XOR,
  keyBlock: { formatType: F.Raw, material: { bytes: Buffer.from('0a0b0c0d', 'hex') }, algorithm: Alg.AES, length: 128 }, ...over,
});

describe('Certificate, Public/Private Key, Split Key, Template objects (KMIP 1.4 §2.2.1–2.2.6)', () => {
  it('encodes byte for byte as PyKMIP does, and decodes PyKMIP\'s bytes', async () => {
    const cert = Buffer.from('3082010a', 'hex');
    const key = Buffer.from('30820122300d', 'hex');
    const script = join(repoRoot, 'test', 'kmip', 'objects', 'pykmip_encode_key_objects.py');
    const { stdout } = await run('/usr/bin/python3', [script, cert.toString('hex'), key.toString('hex'), '0a0b0c0d']);
    const [pyCert, pyPub, pyPriv, pySplit, pyTemplate] = stdout.trim().split('\n');
    const pub = { keyBlock: { formatType: F.PKCS1, material: { bytes: key }, algorithm: Alg.RSA, length: 2048 } };
    const priv = { keyBlock: { formatType: F.PKCS8, material: { bytes: key }, algorithm: Alg.EC, length: 256 } };
    const template = { attributes: [attr.enumeration(AttributeName.CryptographicAlgorithm, Alg.AES), attr.int(AttributeName.CryptographicLength, 256)] };
    expect(hex(encodeCertificate({ certificateType: CertificateType.X509, value: cert }))).toBe(pyCert);
    expect(hex(encodeAsymmetricKey(ObjectType.PublicKey, pub))).toBe(pyPub);
    expect(hex(encodeAsymmetricKey(ObjectType.PrivateKey, priv))).toBe(pyPriv);
    expect(hex(encodeSplitKey(split()))).toBe(pySplit);
    expect(hex(encodeTemplate(template))).toBe(pyTemplate);
    expect(decodeCertificate(parse(pyCert))).toEqual({ certificateType: CertificateType.X509, value: cert });
    expect(decodeAsymmetricKey(ObjectType.PublicKey, parse(pyPub))).toEqual(pub);
    expect(decodeAsymmetricKey(ObjectType.PrivateKey, parse(pyPriv))).toEqual(priv);
    expect(decodeSplitKey(parse(pySplit))).toEqual(split());
    expect(decodeTemplate(parse(pyTemplate))).toEqual(template);
  });

  const transparent: ObjectContent = {
    objectType: ObjectType.PublicKey,
    publicKey: { keyBlock: { formatType: F.TransparentECPublicKey, material: { fields: [ttlv.enumeration(Tag.RecommendedCurve, RecommendedCurve.P256), ttlv.bytes(Tag.QString, Buffer.alloc(65, 4))] } } },
  };
  it.each<[string, ObjectContent]>([
    ['a certificate', { objectType: ObjectType.Certificate, certificate: { certificateType: CertificateType.X509, value: Buffer.from([0x30, 0]) } }],
    ['a transparent public key', transparent],
    ['a split key with a Prime Field Size', { objectType: ObjectType.SplitKey, splitKey: split({ method: SplitKeyMethod.PolynomialSharingPrimeField, primeFieldSize: Buffer.from('0000000000010001', 'hex') }) }],
    ['a template', { objectType: ObjectType.Template, template: { attributes: [attr.text(AttributeName.ObjectGroup, 'g')] } }],
  ])('round-trips %s through the object-type switch', (_label, c) => {
    const item = decodeTtlv(encodeTtlv(encodeObjectContent(c)));
    expect(decodeObjectContent(c.objectType, (tag) => (tag === item.tag ? item : undefined))).toEqual(c);
  });

  it('zeroes every key byte of an object, transparent fields included', () => {
    const c = structuredClone(transparent) as ObjectContent;
    wipeObjectContent(c);
    if (c.objectType !== ObjectType.PublicKey || 'bytes' in c.publicKey.keyBlock.material) throw new Error('shape');
    const q = c.publicKey.keyBlock.material.fields[1];
    expect(q?.type === 'ByteString' && q.value.every((b) => b === 0)).toBe(true);
    const m = { bytes: Buffer.alloc(8, 1) };
    wipeKeyMaterial(m);
    expect(m.bytes.every((b) => b === 0)).toBe(true);
  });

  const keyItem = (material: TtlvItem, extra: TtlvItem[] = []) =>
    ttlv.struct(Tag.PrivateKey, [ttlv.struct(Tag.KeyBlock, [ttlv.enumeration(Tag.KeyFormatType, F.PKCS8), ttlv.struct(Tag.KeyValue, [material]), ...extra])]);
  it.each<[string, () => unknown, string]>([
    ['an empty certificate', () => decodeCertificate(ttlv.struct(Tag.Certificate, [ttlv.enumeration(Tag.CertificateType, 1), ttlv.bytes(Tag.CertificateValue, Buffer.alloc(0))])), 'KMIP_INVALID_FIELD'],
    ['an oversized certificate', () => decodeCertificate(ttlv.struct(Tag.Certificate, [ttlv.enumeration(Tag.CertificateType, 1), ttlv.bytes(Tag.CertificateValue, Buffer.alloc(MAX_CERTIFICATE_BYTES + 1))])), 'KMIP_INVALID_FIELD'],
    ['oversized key material', () => decodeAsymmetricKey(ObjectType.PrivateKey, keyItem(ttlv.bytes(Tag.KeyMaterial, Buffer.alloc(MAX_KEY_BYTES + 1, 1)))), 'KMIP_INVALID_FIELD'],
    ['a nested transparent structure', () => decodeAsymmetricKey(ObjectType.PrivateKey, keyItem(ttlv.struct(Tag.KeyMaterial, [ttlv.struct(Tag.D, [])]))), 'KMIP_INVALID_FIELD'],
    ['key material of another type', () => decodeAsymmetricKey(ObjectType.PrivateKey, keyItem(ttlv.int(Tag.KeyMaterial, 1))), 'KMIP_INVALID_FIELD'],
    ['a wrapped key block', () => decodeAsymmetricKey(ObjectType.PrivateKey, keyItem(ttlv.bytes(Tag.KeyMaterial, Buffer.alloc(8, 1)), [ttlv.struct(Tag.KeyWrappingData, [])])), 'KMIP_FEATURE_NOT_SUPPORTED'],
    ['a private key under the Public Key tag', () => decodeAsymmetricKey(ObjectType.PublicKey, keyItem(ttlv.bytes(Tag.KeyMaterial, Buffer.alloc(8, 1)))), 'KMIP_INVALID_MESSAGE'],
    ['a threshold above the parts', () => decodeSplitKey(encodeSplitKey(split({ threshold: 4 }))), 'KMIP_INVALID_FIELD'],
    ['a part identifier above the parts', () => decodeSplitKey(encodeSplitKey(split({ keyPartIdentifier: 4 }))), 'KMIP_INVALID_FIELD'],
    ['256 parts', () => decodeSplitKey(encodeSplitKey(split({ parts: 256 }))), 'KMIP_INVALID_FIELD'],
    ['an undefined split method', () => decodeSplitKey(encodeSplitKey(split({ method: 9 }))), 'KMIP_INVALID_FIELD'],
    ['prime-field sharing without its prime', () => decodeSplitKey(encodeSplitKey(split({ method: SplitKeyMethod.PolynomialSharingPrimeField }))), 'KMIP_MISSING_FIELD'],
    ['a transparent split key part', () => decodeSplitKey(encodeSplitKey(split({ keyBlock: { formatType: F.TransparentSymmetricKey, material: { fields: [ttlv.bytes(Tag.Key, Buffer.alloc(16))] } } }))), 'KMIP_KEY_FORMAT_NOT_SUPPORTED'],
    ['an empty template', () => decodeTemplate(ttlv.struct(Tag.Template, [])), 'KMIP_MISSING_FIELD'],
    ['a template of too many attributes', () => decodeTemplate(encodeTemplate({ attributes: Array.from({ length: MAX_TEMPLATE_ATTRIBUTES + 1 }, () => attr.text(AttributeName.ObjectGroup, 'g')) })), 'KMIP_INVALID_FIELD'],
    ['an unsupported object type (PGP Key)', () => decodeObjectContent(ObjectType.PgpKey, () => undefined), 'KMIP_FEATURE_NOT_SUPPORTED'],
  ])('refuses %s', (_label, f, expected) => {
    expect(code(f)).toBe(expected);
  });
});
