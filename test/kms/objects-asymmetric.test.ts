import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attr, AttributeName } from '../../src/kmip/attributes.js';
import { CryptographicAlgorithm as Alg, KeyFormatType as F, ObjectType, RecommendedCurve, ResultReason } from '../../src/kmip/enums.js';
import type { KeyMaterial } from '../../src/kmip/objects/key-block.js';
import type { ObjectContent } from '../../src/kmip/objects/object-content.js';
import { Tag } from '../../src/kmip/tags.js';
import { ttlv, type TtlvItem } from '../../src/kmip/ttlv/index.js';
import { openHarness } from './harness.js';
import { objectOps, valueOf } from './objects-helpers.js';

let h: Awaited<ReturnType<typeof openHarness>>;
beforeAll(async () => {
  h = await openHarness();
});
afterAll(async () => {
  await h.close();
});
const ops = objectOps(() => h);

type Kind = typeof ObjectType.PublicKey | typeof ObjectType.PrivateKey;
const keyContent = (objectType: Kind, formatType: number, material: KeyMaterial, extra: { algorithm?: number; length?: number } = {}): ObjectContent =>
  objectType === ObjectType.PrivateKey
    ? { objectType, privateKey: { keyBlock: { formatType, material, ...extra } } }
    : { objectType, publicKey: { keyBlock: { formatType, material, ...extra } } };
const blockOf = (c: ObjectContent) => (c.objectType === ObjectType.PrivateKey ? c.privateKey.keyBlock : c.objectType === ObjectType.PublicKey ? c.publicKey.keyBlock : undefined);

// Expected encodings, computed here with Node's own export (independently of src/kms/keygen).
const big = (b64: string | undefined): Buffer => {
  const v = Buffer.from(b64 ?? '', 'base64url');
  const pad = (v[0] ?? 0) & 0x80 ? 1 : 0;
  const len = Math.ceil((v.length + pad) / 8) * 8;
  return Buffer.concat([Buffer.alloc(len - v.length), v]);
};
function expected(objectType: Kind, key: KeyObject, format: number, curve?: number): KeyMaterial {
  const priv = objectType === ObjectType.PrivateKey;
  const der = (type: string) => ({ bytes: key.export({ format: 'der', type } as never) as unknown as Buffer });
  const j = key.export({ format: 'jwk' });
  switch (format) {
    case F.PKCS1: return der('pkcs1');
    case F.PKCS8: return der('pkcs8');
    case F.X509: return der('spki');
    case F.ECPrivateKey: return der('sec1');
    case F.TransparentRSAPrivateKey:
      return { fields: ([[Tag.Modulus, j.n], [Tag.PrivateExponent, j.d], [Tag.PublicExponent, j.e], [Tag.P, j.p], [Tag.Q, j.q], [Tag.PrimeExponentP, j.dp], [Tag.PrimeExponentQ, j.dq], [Tag.CRTCoefficient, j.qi]] as const).map(([t, v]) => ttlv.bigInt(t, big(v))) };
    case F.TransparentRSAPublicKey:
      return { fields: [ttlv.bigInt(Tag.Modulus, big(j.n)), ttlv.bigInt(Tag.PublicExponent, big(j.e))] };
    default: {
      const rc = ttlv.enumeration(Tag.RecommendedCurve, curve ?? 0);
      if (priv) return { fields: [rc, ttlv.bigInt(Tag.D, big(j.d))] };
      return { fields: [rc, ttlv.bytes(Tag.QString, Buffer.concat([Buffer.from([4]), Buffer.from(j.x ?? '', 'base64url'), Buffer.from(j.y ?? '', 'base64url')]))] };
    }
  }
}

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' });
const cases = [
  { label: 'RSA-2048 private', objectType: ObjectType.PrivateKey, key: rsa.privateKey, alg: Alg.RSA, bits: 2048, formats: [F.PKCS1, F.PKCS8, F.TransparentRSAPrivateKey] },
  { label: 'RSA-2048 public', objectType: ObjectType.PublicKey, key: rsa.publicKey, alg: Alg.RSA, bits: 2048, formats: [F.PKCS1, F.X509, F.TransparentRSAPublicKey] },
  { label: 'EC P-256 private', objectType: ObjectType.PrivateKey, key: p256.privateKey, alg: Alg.EC, bits: 256, curve: RecommendedCurve.P256, formats: [F.PKCS8, F.ECPrivateKey, F.TransparentECPrivateKey, F.TransparentECDSAPrivateKey] },
  { label: 'EC P-256 public', objectType: ObjectType.PublicKey, key: p256.publicKey, alg: Alg.EC, bits: 256, curve: RecommendedCurve.P256, formats: [F.X509, F.TransparentECPublicKey, F.TransparentECDSAPublicKey] },
  { label: 'EC P-521 private', objectType: ObjectType.PrivateKey, key: p521.privateKey, alg: Alg.EC, bits: 521, curve: RecommendedCurve.P521, formats: [F.PKCS8, F.ECPrivateKey, F.TransparentECPrivateKey] },
  { label: 'EC P-521 public', objectType: ObjectType.PublicKey, key: p521.publicKey, alg: Alg.EC, bits: 521, curve: RecommendedCurve.P521, formats: [F.X509, F.TransparentECPublicKey] },
] as const;

describe('public and private keys: Register and Get in every Key Format Type (KMIP 1.4 §2.1.7, §4.11)', () => {
  it.each(cases)('$label: registered in each format, returned in it by default and converted to every other', async (c) => {
    for (const inFormat of c.formats) {
      const id = await ops.registered(keyContent(c.objectType, inFormat, expected(c.objectType, c.key, inFormat, (c as { curve?: number }).curve)));
      const attrs = await ops.attributes(id);
      expect([valueOf(attrs, AttributeName.ObjectType), valueOf(attrs, AttributeName.CryptographicAlgorithm), valueOf(attrs, AttributeName.CryptographicLength)]).toEqual([c.objectType, c.alg, c.bits]);
      const byDefault = blockOf(await ops.content(id));
      expect(byDefault?.formatType).toBe(inFormat);
      for (const outFormat of c.formats) {
        const got = blockOf(await ops.content(id, outFormat));
        expect([inFormat, outFormat, got?.formatType, got?.algorithm, got?.length]).toEqual([inFormat, outFormat, outFormat, c.alg, c.bits]);
        expect([inFormat, outFormat, got?.material]).toEqual([inFormat, outFormat, expected(c.objectType, c.key, outFormat, (c as { curve?: number }).curve)]);
      }
      const other = c.objectType === ObjectType.PrivateKey ? F.X509 : F.PKCS8;
      expect((await ops.get(id, other))?.resultReason).toBe(ResultReason.KeyFormatTypeNotSupported);
      expect((await ops.get(id, F.Raw))?.resultReason).toBe(ResultReason.KeyFormatTypeNotSupported);
    }
  });

  it('keeps the DER a client registered byte for byte, and seals it', async () => {
    const der = rsa.privateKey.export({ format: 'der', type: 'pkcs1' });
    const id = await ops.registered(keyContent(ObjectType.PrivateKey, F.PKCS1, { bytes: Buffer.from(der) }, { algorithm: Alg.RSA, length: 2048 }), [attr.name('rsa-priv')]);
    expect(blockOf(await ops.content(id))?.material).toEqual({ bytes: der });
    expect((await h.store.get(id))?.sealedKey?.includes(der.subarray(-64))).toBe(false);
    // Never in the audit log or the attribute document, in any encoding.
    const tail = der.subarray(-48);
    const logged = JSON.stringify(h.audit.entries) + ((await h.store.get(id))?.attributes ?? '');
    for (const enc of ['hex', 'base64', 'base64url'] as const) expect(logged).not.toContain(tail.toString(enc));
    expect((await ops.destroy(id))?.resultMessage).toBeUndefined();
    expect((await h.store.get(id))?.sealedKey).toBeNull();
    expect((await ops.get(id))?.resultReason).toBe(ResultReason.ItemNotFound);
  });

  const rsaPkcs8 = () => ({ bytes: Buffer.from(rsa.privateKey.export({ format: 'der', type: 'pkcs8' })) });
  it.each([
    ['a public key in PKCS#8', () => keyContent(ObjectType.PublicKey, F.PKCS8, rsaPkcs8()), ResultReason.KeyFormatTypeNotSupported],
    ['a private key in X.509', () => keyContent(ObjectType.PrivateKey, F.X509, rsaPkcs8()), ResultReason.KeyFormatTypeNotSupported],
    ['an EC key as PKCS#1', () => keyContent(ObjectType.PrivateKey, F.PKCS1, { bytes: Buffer.from(p256.privateKey.export({ format: 'der', type: 'pkcs8' })) }), ResultReason.InvalidField],
    ['an RSA key in EC Private Key format', () => keyContent(ObjectType.PrivateKey, F.ECPrivateKey, rsaPkcs8()), ResultReason.InvalidField],
    ['bytes that are no key', () => keyContent(ObjectType.PrivateKey, F.PKCS8, { bytes: Buffer.from('not a key at all') }), ResultReason.InvalidField],
    ['a Raw key', () => keyContent(ObjectType.PrivateKey, F.Raw, rsaPkcs8()), ResultReason.KeyFormatTypeNotSupported],
    ['RSA-512', () => keyContent(ObjectType.PrivateKey, F.PKCS8, { bytes: generateKeyPairSync('rsa', { modulusLength: 512 }).privateKey.export({ format: 'der', type: 'pkcs8' }) }), ResultReason.InvalidField],
    ['an Ed25519 key', () => keyContent(ObjectType.PrivateKey, F.PKCS8, { bytes: generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' }) }), ResultReason.InvalidField],
    ['a secp256k1 key', () => keyContent(ObjectType.PrivateKey, F.PKCS8, { bytes: generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({ format: 'der', type: 'pkcs8' }) }), ResultReason.InvalidField],
    ['a wrong Cryptographic Length', () => keyContent(ObjectType.PrivateKey, F.PKCS8, rsaPkcs8(), { length: 4096 }), ResultReason.InvalidField],
    ['an RSA key called AES', () => keyContent(ObjectType.PrivateKey, F.PKCS8, rsaPkcs8(), { algorithm: Alg.AES }), ResultReason.InvalidField],
    ['an EC point off the curve', () => keyContent(ObjectType.PublicKey, F.TransparentECPublicKey, { fields: [ttlv.enumeration(Tag.RecommendedCurve, RecommendedCurve.P256), ttlv.bytes(Tag.QString, Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]))] }), ResultReason.InvalidField],
    ['a transparent RSA key without its CRT fields', () => keyContent(ObjectType.PrivateKey, F.TransparentRSAPrivateKey, { fields: (expected(ObjectType.PrivateKey, rsa.privateKey, F.TransparentRSAPrivateKey) as { fields: TtlvItem[] }).fields.slice(0, 3) }), ResultReason.InvalidMessage],
  ])('refuses %s', async (_label, make, reason) => {
    const before = (await h.store.list()).length;
    const item = await ops.register(make());
    expect(item?.resultReason).toBe(reason);
    expect((await h.store.list()).length).toBe(before);
  });
});
