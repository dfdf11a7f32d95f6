// Sign / Signature Verify, RSA-OAEP Encrypt / Decrypt and RSA-OAEP key wrapping with key pairs
// made by Create Key Pair, through the real KeyServer; every answer is also checked with Node's
// crypto on the keys fetched with Get (SubjectPublicKeyInfo / PKCS#8).
import { constants, createPrivateKey, createPublicKey, privateDecrypt, publicEncrypt, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attr, AttributeName, encodeTemplateAttribute, type Attribute } from '../../../src/kmip/attributes.js';
import { CryptographicAlgorithm as Alg, CryptographicUsageMask as U, DigitalSignatureAlgorithm, EncodingOption, HashingAlgorithm, KeyFormatType, ObjectType, PaddingMethod, ResultReason, ValidityIndicator, WrappingMethod } from '../../../src/kmip/enums.js';
import { Operation } from '../../../src/kmip/operation-codes.js';
import type { CryptographicParameters } from '../../../src/kmip/payloads/crypto-parameters.js';
import { decodeCreateKeyPairResponse, encodeCreateKeyPairRequest } from '../../../src/kmip/payloads/create-key-pair.js';
import { decodeDecryptResponse, encodeDecryptRequest } from '../../../src/kmip/payloads/decrypt.js';
import { decodeEncryptResponse, encodeEncryptRequest } from '../../../src/kmip/payloads/encrypt.js';
import { decodeGetObjectResponse, encodeGetRequest } from '../../../src/kmip/payloads/get.js';
import { encodeKeyWrappingData, encodeKeyWrappingSpecification } from '../../../src/kmip/payloads/key-wrapping.js';
import { decodeRegisterResponse } from '../../../src/kmip/payloads/register.js';
import { decodeVerifyResponse } from '../../../src/kmip/payloads/mac-verify.js';
import { decodeSignResponse, encodeSignRequest } from '../../../src/kmip/payloads/sign.js';
import { encodeSignatureVerifyRequest } from '../../../src/kmip/payloads/signature-verify.js';
import { Tag } from '../../../src/kmip/tags.js';
import { Fields, ttlv, type TtlvItem } from '../../../src/kmip/ttlv/index.js';
import { openHarness } from '../harness.js';
import { cryptoDriver } from './kms-driver.js';

type H = Awaited<ReturnType<typeof openHarness>>;
let h: H;
let kms: ReturnType<typeof cryptoDriver>;
let rsa: { priv: string; pub: string };
let ec: { priv: string; pub: string };
const active = attr.date(AttributeName.ActivationDate, new Date(Date.now() - 60_000));
const ta = (attributes: Attribute[]) => ({ templateNames: [], attributes });

async function pair(alg: number, bits: number, privMask: number, pubMask: number): Promise<{ priv: string; pub: string }> {
  const payload = encodeCreateKeyPairRequest({
    common: ta([attr.enumeration(AttributeName.CryptographicAlgorithm, alg), attr.int(AttributeName.CryptographicLength, bits), active]),
    privateKey: ta([attr.int(AttributeName.CryptographicUsageMask, privMask)]),
    publicKey: ta([attr.int(AttributeName.CryptographicUsageMask, pubMask)]),
  });
  const r = decodeCreateKeyPairResponse(await kms.ok(Operation.CreateKeyPair, payload));
  return { priv: r.privateKeyUniqueIdentifier, pub: r.publicKeyUniqueIdentifier };
}

/** The DER bytes of a key in `format`, fetched with Get. */
async function der(id: string, format: number): Promise<Buffer> {
  const c = decodeGetObjectResponse(await kms.ok(Operation.Get, encodeGetRequest({ uniqueIdentifier: id, keyFormatType: format }))).content;
  const block = c.objectType === ObjectType.PrivateKey ? c.privateKey.keyBlock : c.objectType === ObjectType.PublicKey ? c.publicKey.keyBlock : undefined;
  if (block === undefined || !('bytes' in block.material)) throw new Error('not an encoded key');
  return Buffer.from(block.material.bytes);
}

beforeAll(async () => {
  h = await openHarness();
  kms = cryptoDriver(h);
  rsa = await pair(Alg.RSA, 2048, U.Sign | U.Decrypt | U.UnwrapKey, U.Verify | U.Encrypt | U.WrapKey);
  ec = await pair(Alg.EC, 256, U.Sign, U.Verify);
});
afterAll(async () => {
  await h.close();
});

const data = Buffer.from('the VM disk header to sign');
const pss: CryptographicParameters = { paddingMethod: PaddingMethod.PSS, hashingAlgorithm: HashingAlgorithm.SHA256, cryptographicAlgorithm: Alg.RSA };

describe('Sign / Signature Verify', () => {
  it('RSA-PSS SHA-256: the signature verifies here and with the public key fetched; other data is Invalid', async () => {
    const sig = decodeSignResponse(await kms.ok(Operation.Sign, encodeSignRequest({ uniqueIdentifier: rsa.priv, cryptographicParameters: pss, data }))).signatureData!;
    const check = async (d: Buffer, params = pss) =>
      decodeVerifyResponse(await kms.ok(Operation.SignatureVerify, encodeSignatureVerifyRequest({ uniqueIdentifier: rsa.pub, cryptographicParameters: params, data: d, signatureData: sig }))).validityIndicator;
    expect(await check(data)).toBe(ValidityIndicator.Valid);
    expect(await check(Buffer.from('another header'))).toBe(ValidityIndicator.Invalid);
    expect(await check(data, { ...pss, hashingAlgorithm: HashingAlgorithm.SHA1 })).toBe(ValidityIndicator.Invalid);
    const pub = createPublicKey({ key: await der(rsa.pub, KeyFormatType.X509), format: 'der', type: 'spki' });
    expect(verify('sha256', data, { key: pub, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, sig)).toBe(true);
  });

  it('RSA PKCS#1 v1.5 by Digital Signature Algorithm, and ECDSA P-256 (DER signatures)', async () => {
    const p1 = { digitalSignatureAlgorithm: DigitalSignatureAlgorithm.SHA256WithRSAEncryption };
    const s1 = decodeSignResponse(await kms.ok(Operation.Sign, encodeSignRequest({ uniqueIdentifier: rsa.priv, cryptographicParameters: p1, data }))).signatureData!;
    const rsaPub = createPublicKey({ key: await der(rsa.pub, KeyFormatType.X509), format: 'der', type: 'spki' });
    expect(verify('sha256', data, rsaPub, s1)).toBe(true);
    const p2 = { digitalSignatureAlgorithm: DigitalSignatureAlgorithm.ECDSAWithSHA256 };
    const s2 = decodeSignResponse(await kms.ok(Operation.Sign, encodeSignRequest({ uniqueIdentifier: ec.priv, cryptographicParameters: p2, data }))).signatureData!;
    const ecPub = createPublicKey({ key: await der(ec.pub, KeyFormatType.X509), format: 'der', type: 'spki' });
    expect(verify('sha256', data, ecPub, s2)).toBe(true);
    const v = decodeVerifyResponse(await kms.ok(Operation.SignatureVerify, encodeSignatureVerifyRequest({ uniqueIdentifier: ec.pub, cryptographicParameters: p2, data, signatureData: s2 })));
    expect(v.validityIndicator).toBe(ValidityIndicator.Valid);
  });

  it('the public key does not sign, an RSA scheme does not fit an EC key, a key without Sign is refused', async () => {
    expect((await kms.call(Operation.Sign, encodeSignRequest({ uniqueIdentifier: rsa.pub, cryptographicParameters: pss, data }))).resultReason).toBe(ResultReason.IllegalOperation);
    expect((await kms.call(Operation.Sign, encodeSignRequest({ uniqueIdentifier: ec.priv, cryptographicParameters: pss, data }))).resultReason).toBe(ResultReason.InvalidField);
    const noSign = await pair(Alg.RSA, 2048, U.Decrypt, U.Encrypt);
    expect((await kms.call(Operation.Sign, encodeSignRequest({ uniqueIdentifier: noSign.priv, cryptographicParameters: pss, data }))).resultReason).toBe(ResultReason.PermissionDenied);
  });
});

describe('RSA-OAEP', () => {
  const oaep = { paddingMethod: PaddingMethod.OAEP, hashingAlgorithm: HashingAlgorithm.SHA256, cryptographicAlgorithm: Alg.RSA };
  it('Encrypt with the public key, Decrypt with the private key; the PKCS#8 key fetched decrypts it too', async () => {
    const secret = Buffer.from('a 32-byte data encryption key!!!');
    const enc = decodeEncryptResponse(await kms.ok(Operation.Encrypt, encodeEncryptRequest({ uniqueIdentifier: rsa.pub, cryptographicParameters: oaep, data: secret })));
    expect(enc.data?.length).toBe(256);
    const dec = decodeDecryptResponse(await kms.ok(Operation.Decrypt, encodeDecryptRequest({ uniqueIdentifier: rsa.priv, cryptographicParameters: oaep, data: enc.data! })));
    expect(dec.data?.equals(secret)).toBe(true);
    const priv = createPrivateKey({ key: await der(rsa.priv, KeyFormatType.PKCS8), format: 'der', type: 'pkcs8' });
    expect(privateDecrypt({ key: priv, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, enc.data!).equals(secret)).toBe(true);
    const pkcs1 = await kms.call(Operation.Encrypt, encodeEncryptRequest({ uniqueIdentifier: rsa.pub, cryptographicParameters: { paddingMethod: PaddingMethod.PKCS1v15 }, data: secret }));
    expect(pkcs1.resultReason).toBe(ResultReason.FeatureNotSupported);
  });

  it('Get of an AES key wrapped under the RSA public key (OAEP, SHA-1 default); Register unwraps with the private key', async () => {
    const aes = Buffer.alloc(32, 0x3c);
    const id = await kms.aesKey(aes, U.Encrypt);
    const spec = encodeKeyWrappingSpecification({ wrappingMethod: WrappingMethod.Encrypt, encryptionKeyInformation: { uniqueIdentifier: rsa.pub }, attributeNames: [], encodingOption: EncodingOption.NoEncoding });
    const got = (await kms.ok(Operation.Get, encodeGetRequest({ uniqueIdentifier: id, keyWrappingSpecification: spec }))) as TtlvItem;
    const block = new Fields(got).requiredStruct(Tag.SymmetricKey).requiredStruct(Tag.KeyBlock);
    const wrapped = block.required(Tag.KeyValue, 'ByteString');
    const priv = createPrivateKey({ key: await der(rsa.priv, KeyFormatType.PKCS8), format: 'der', type: 'pkcs8' });
    expect(privateDecrypt({ key: priv, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, wrapped).equals(aes)).toBe(true);
    const params = block.requiredStruct(Tag.KeyWrappingData).requiredStruct(Tag.EncryptionKeyInformation).requiredStruct(Tag.CryptographicParameters);
    expect(params.required(Tag.PaddingMethod, 'Enumeration')).toBe(PaddingMethod.OAEP);
    // A locally wrapped key, registered: unwrapped with the private key the Key Wrapping Data names.
    const pub = createPublicKey({ key: await der(rsa.pub, KeyFormatType.X509), format: 'der', type: 'spki' });
    const mine = publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.alloc(16, 0x77));
    const reg = await kms.call(
      Operation.Register,
      ttlv.struct(Tag.RequestPayload, [
        ttlv.enumeration(Tag.ObjectType, ObjectType.SymmetricKey),
        encodeTemplateAttribute(ta([attr.int(AttributeName.CryptographicUsageMask, U.Encrypt)])),
        ttlv.struct(Tag.SymmetricKey, [
          ttlv.struct(Tag.KeyBlock, [
            ttlv.enumeration(Tag.KeyFormatType, KeyFormatType.Raw),
            ttlv.bytes(Tag.KeyValue, mine),
            ttlv.enumeration(Tag.CryptographicAlgorithm, Alg.AES),
            ttlv.int(Tag.CryptographicLength, 128),
            encodeKeyWrappingData({ wrappingMethod: WrappingMethod.Encrypt, encryptionKeyInformation: { uniqueIdentifier: rsa.priv }, encodingOption: EncodingOption.NoEncoding }),
          ]),
        ]),
      ]),
    );
    expect(reg.resultMessage).toBeUndefined();
    const back = decodeGetObjectResponse(await kms.ok(Operation.Get, encodeGetRequest({ uniqueIdentifier: decodeRegisterResponse(reg.payload).uniqueIdentifier }))).content;
    expect(back.objectType === ObjectType.SymmetricKey && back.symmetricKey.material.equals(Buffer.alloc(16, 0x77))).toBe(true);
  });
});
