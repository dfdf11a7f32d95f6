// Derive Key and key wrapping (Get with a Key Wrapping Specification, Register of a wrapped key)
// through the real KeyServer.
import { createCipheriv, createDecipheriv, createHmac, pbkdf2Sync } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { attr, AttributeName, encodeTemplateAttribute } from '../../../src/kmip/attributes.js';
import { BlockCipherMode, CryptographicAlgorithm, CryptographicUsageMask as U, DerivationMethod, EncodingOption, HashingAlgorithm, KeyFormatType, LinkType, ObjectType, ResultReason, WrappingMethod } from '../../../src/kmip/enums.js';
import { Operation } from '../../../src/kmip/operation-codes.js';
import { decodeDeriveKeyResponse, encodeDeriveKeyRequest } from '../../../src/kmip/payloads/derive-key.js';
import { decodeGetAttributesResponse, encodeGetAttributesRequest } from '../../../src/kmip/payloads/get-attributes.js';
import { decodeGetObjectResponse, encodeGetRequest } from '../../../src/kmip/payloads/get.js';
import { encodeKeyWrappingData, encodeKeyWrappingSpecification } from '../../../src/kmip/payloads/key-wrapping.js';
import { decodeMacResponse, encodeMacRequest } from '../../../src/kmip/payloads/mac.js';
import { decodeRegisterResponse } from '../../../src/kmip/payloads/register.js';
import { Tag } from '../../../src/kmip/tags.js';
import { decodeTtlv, Fields, ttlv, type TtlvItem } from '../../../src/kmip/ttlv/index.js';
import { openHarness } from '../harness.js';
import { cryptoDriver } from './kms-driver.js';

type H = Awaited<ReturnType<typeof openHarness>>;
let h: H;
let kms: ReturnType<typeof cryptoDriver>;
beforeEach(async () => {
  h = await openHarness();
  kms = cryptoDriver(h);
});
afterEach(async () => {
  await h.close();
});

const aes256 = [attr.enumeration(AttributeName.CryptographicAlgorithm, CryptographicAlgorithm.AES), attr.int(AttributeName.CryptographicLength, 256)];

async function keyBytes(id: string): Promise<Buffer> {
  const got = decodeGetObjectResponse(await kms.ok(Operation.Get, encodeGetRequest({ uniqueIdentifier: id })));
  if (got.content.objectType !== ObjectType.SymmetricKey) throw new Error('not a key');
  return Buffer.from(got.content.symmetricKey.material);
}

async function links(id: string): Promise<string[]> {
  const r = decodeGetAttributesResponse(await kms.ok(Operation.GetAttributes, encodeGetAttributesRequest({ uniqueIdentifier: id, attributeNames: [AttributeName.Link] })));
  return r.attributes.map((a) => {
    const f = new Fields(a.value);
    return `${f.required(Tag.LinkType, 'Enumeration')}:${f.required(Tag.LinkedObjectIdentifier, 'TextString')}`;
  });
}

describe('Derive Key on the key server', () => {
  it('PBKDF2 from a registered password gives the RFC 8018 key, linked both ways', async () => {
    const pw = await kms.password('correct horse battery staple', U.DeriveKey);
    const salt = Buffer.from('vmcrypt-salt-0001');
    const payload = encodeDeriveKeyRequest({
      objectType: ObjectType.SymmetricKey,
      uniqueIdentifiers: [pw],
      derivationMethod: DerivationMethod.PBKDF2,
      derivationParameters: { cryptographicParameters: { hashingAlgorithm: HashingAlgorithm.SHA256 }, salt, iterationCount: 4096 },
      templateAttribute: { templateNames: [], attributes: [...aes256, attr.int(AttributeName.CryptographicUsageMask, U.Encrypt | U.Decrypt)] },
    });
    const id = decodeDeriveKeyResponse(await kms.ok(Operation.DeriveKey, payload)).uniqueIdentifier;
    expect((await keyBytes(id)).equals(pbkdf2Sync('correct horse battery staple', salt, 4096, 32, 'sha256'))).toBe(true);
    expect(await links(id)).toEqual([`${LinkType.DerivationBaseObjectLink}:${pw}`]);
    expect(await links(pw)).toEqual([`${LinkType.DerivedKeyLink}:${id}`]);
  });

  it('SP 800-108 counter mode makes an HMAC-SHA256 key (K1 = HMAC(key, [1]32 ‖ data)) that MACs at once', async () => {
    const baseKey = Buffer.alloc(32, 0x5e);
    const base = await kms.aesKey(baseKey, U.DeriveKey);
    const fixed = Buffer.from('label\0context');
    const payload = encodeDeriveKeyRequest({
      objectType: ObjectType.SymmetricKey,
      uniqueIdentifiers: [base],
      derivationMethod: DerivationMethod.NIST800_108_C,
      derivationParameters: { cryptographicParameters: { hashingAlgorithm: HashingAlgorithm.SHA256 }, derivationData: fixed },
      templateAttribute: { templateNames: [], attributes: [attr.enumeration(AttributeName.CryptographicAlgorithm, CryptographicAlgorithm.HMAC_SHA256), attr.int(AttributeName.CryptographicLength, 256), attr.date(AttributeName.ActivationDate, new Date(0))] },
    });
    const id = decodeDeriveKeyResponse(await kms.ok(Operation.DeriveKey, payload)).uniqueIdentifier;
    const k1 = createHmac('sha256', baseKey).update(Buffer.from([0, 0, 0, 1])).update(fixed).digest();
    expect((await keyBytes(id)).equals(k1)).toBe(true);
    const mac = decodeMacResponse(await kms.ok(Operation.MAC, encodeMacRequest({ uniqueIdentifier: id, data: Buffer.from('m') })));
    expect(mac.macData?.equals(createHmac('sha256', k1).update('m').digest())).toBe(true);
  });

  it('a base without the Derive Key bit is refused; so is a base of another identity', async () => {
    const key = await kms.aesKey(Buffer.alloc(32, 9), U.Encrypt);
    const req = (base: string) =>
      encodeDeriveKeyRequest({
        objectType: ObjectType.SymmetricKey,
        uniqueIdentifiers: [base],
        derivationMethod: DerivationMethod.HMAC,
        derivationParameters: { cryptographicParameters: { hashingAlgorithm: HashingAlgorithm.SHA256 }, derivationData: Buffer.from('ctx') },
        templateAttribute: { templateNames: [], attributes: aes256 },
      });
    expect((await kms.call(Operation.DeriveKey, req(key))).resultReason).toBe(ResultReason.PermissionDenied);
    const mine = await kms.aesKey(Buffer.alloc(32, 8), U.DeriveKey);
    expect((await kms.call(Operation.DeriveKey, req(mine), undefined, 'mallory')).resultReason).toBe(ResultReason.PermissionDenied);
    await kms.ok(Operation.DeriveKey, req(mine));
  });
});

/** The wrapped Key Block of a Get response: its Key Value bytes and Key Wrapping Data. */
function wrappedBlock(payload: TtlvItem | undefined): { value: Buffer; wrapping: Fields; format: number } {
  const block = new Fields(payload as TtlvItem).requiredStruct(Tag.SymmetricKey).requiredStruct(Tag.KeyBlock);
  return { value: block.required(Tag.KeyValue, 'ByteString'), wrapping: block.requiredStruct(Tag.KeyWrappingData), format: block.required(Tag.KeyFormatType, 'Enumeration') };
}

describe('key wrapping on Get and Register', () => {
  const kekBytes = Buffer.alloc(32, 0x4b);
  const target = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
  const spec = (kek: string, encodingOption?: number, blockCipherMode?: number) =>
    encodeKeyWrappingSpecification({
      wrappingMethod: WrappingMethod.Encrypt,
      encryptionKeyInformation: { uniqueIdentifier: kek, ...(blockCipherMode === undefined ? {} : { cryptographicParameters: { blockCipherMode } }) },
      attributeNames: [],
      ...(encodingOption === undefined ? {} : { encodingOption }),
    });
  const rfc3394 = (kek: Buffer, data: Buffer): Buffer => {
    const c = createCipheriv('id-aes256-wrap', kek, Buffer.from('a6a6a6a6a6a6a6a6', 'hex'));
    return Buffer.concat([c.update(data), c.final()]);
  };

  it('No Encoding: the Key Value is RFC 3394 of the key bytes; Key Wrapping Data names the KEK and the mode', async () => {
    const kek = await kms.aesKey(kekBytes, U.WrapKey | U.UnwrapKey);
    const id = await kms.aesKey(target, U.Encrypt);
    const r = wrappedBlock(await kms.ok(Operation.Get, encodeGetRequest({ uniqueIdentifier: id, keyWrappingSpecification: spec(kek, EncodingOption.NoEncoding) })));
    expect(r.value.equals(rfc3394(kekBytes, target))).toBe(true);
    expect(r.format).toBe(KeyFormatType.Raw);
    expect(r.wrapping.required(Tag.WrappingMethod, 'Enumeration')).toBe(WrappingMethod.Encrypt);
    const info = r.wrapping.requiredStruct(Tag.EncryptionKeyInformation);
    expect(info.required(Tag.UniqueIdentifier, 'TextString')).toBe(kek);
    expect(info.requiredStruct(Tag.CryptographicParameters).required(Tag.BlockCipherMode, 'Enumeration')).toBe(BlockCipherMode.NISTKeyWrap);
  });

  it('TTLV Encoding (the default) wraps the encoded Key Value structure; RFC 5649 on request', async () => {
    const kek = await kms.aesKey(kekBytes, U.WrapKey);
    const id = await kms.aesKey(target, U.Encrypt);
    const r = wrappedBlock(await kms.ok(Operation.Get, encodeGetRequest({ uniqueIdentifier: id, keyWrappingSpecification: spec(kek) })));
    const d = createDecipheriv256(kekBytes, r.value);
    const kv = new Fields(decodeTtlv(d), Tag.KeyValue);
    expect(kv.required(Tag.KeyMaterial, 'ByteString').equals(target)).toBe(true);
    const padded = wrappedBlock(await kms.ok(Operation.Get, encodeGetRequest({ uniqueIdentifier: id, keyWrappingSpecification: spec(kek, EncodingOption.NoEncoding, BlockCipherMode.AESKeyWrapPadding) })));
    expect(padded.value.length).toBe(40);
    expect(padded.value.equals(r.value)).toBe(false);
  });

  it('secret data is returned wrapped too (its Key Block: RFC 5649 of a 28-byte password)', async () => {
    const kek = await kms.aesKey(kekBytes, U.WrapKey);
    const pw = await kms.password('correct horse battery staple', U.DeriveKey);
    const got = (await kms.ok(Operation.Get, encodeGetRequest({ uniqueIdentifier: pw, keyWrappingSpecification: spec(kek, EncodingOption.NoEncoding) }))) as TtlvItem;
    const block = new Fields(got).requiredStruct(Tag.SecretData).requiredStruct(Tag.KeyBlock);
    const c = createDecipheriv('id-aes256-wrap-pad', kekBytes, Buffer.from('a65959a6', 'hex'));
    const clear = Buffer.concat([c.update(block.required(Tag.KeyValue, 'ByteString')), c.final()]);
    expect(clear.toString()).toBe('correct horse battery staple');
  });

  it('a KEK without Wrap Key or of another identity is refused; MAC/sign wrapping is Feature Not Supported', async () => {
    const id = await kms.aesKey(target, U.Encrypt);
    const noBit = await kms.aesKey(kekBytes, U.Encrypt);
    expect((await kms.call(Operation.Get, encodeGetRequest({ uniqueIdentifier: id, keyWrappingSpecification: spec(noBit) }))).resultReason).toBe(ResultReason.PermissionDenied);
    const theirs = await cryptoDriver(h, 'bob').aesKey(kekBytes, U.WrapKey);
    expect((await kms.call(Operation.Get, encodeGetRequest({ uniqueIdentifier: id, keyWrappingSpecification: spec(theirs) }))).resultReason).toBe(ResultReason.PermissionDenied);
    const mac = encodeKeyWrappingSpecification({ wrappingMethod: WrappingMethod.MACSign, attributeNames: [] });
    expect((await kms.call(Operation.Get, encodeGetRequest({ uniqueIdentifier: id, keyWrappingSpecification: mac }))).resultReason).toBe(ResultReason.FeatureNotSupported);
  });

  it('Register of a wrapped key unwraps it (Unwrap Key bit); a wrong KEK is Cryptographic Failure', async () => {
    const kek = await kms.aesKey(kekBytes, U.UnwrapKey);
    const other = await kms.aesKey(Buffer.alloc(32, 0x4c), U.UnwrapKey);
    const register = (kekId: string) =>
      kms.call(
        Operation.Register,
        ttlv.struct(Tag.RequestPayload, [
          ttlv.enumeration(Tag.ObjectType, ObjectType.SymmetricKey),
          encodeTemplateAttribute({ templateNames: [], attributes: [attr.int(AttributeName.CryptographicUsageMask, U.Encrypt)] }),
          ttlv.struct(Tag.SymmetricKey, [
            ttlv.struct(Tag.KeyBlock, [
              ttlv.enumeration(Tag.KeyFormatType, KeyFormatType.Raw),
              ttlv.bytes(Tag.KeyValue, rfc3394(kekBytes, target)),
              ttlv.enumeration(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
              ttlv.int(Tag.CryptographicLength, 256),
              encodeKeyWrappingData({ wrappingMethod: WrappingMethod.Encrypt, encryptionKeyInformation: { uniqueIdentifier: kekId }, encodingOption: EncodingOption.NoEncoding }),
            ]),
          ]),
        ]),
      );
    const ok = await register(kek);
    expect(ok.resultMessage).toBeUndefined();
    expect((await keyBytes(decodeRegisterResponse(ok.payload).uniqueIdentifier)).equals(target)).toBe(true);
    expect((await register(other)).resultReason).toBe(ResultReason.CryptographicFailure);
  });
});

function createDecipheriv256(kek: Buffer, wrapped: Buffer): Buffer {
  // RFC 3394 unwrap through OpenSSL directly (not vmcrypt's code path).
  const d = createDecipheriv('id-aes256-wrap', kek, Buffer.from('a6a6a6a6a6a6a6a6', 'hex'));
  return Buffer.concat([d.update(wrapped), d.final()]);
}
