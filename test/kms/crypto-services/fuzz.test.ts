// Mutated Encrypt, Decrypt, MAC, Sign, Derive Key, Hash, RNG Retrieve and wrapped Get/Register
// requests, naming real keys, through the KeyServer: every answer must be a decodable Response
// Message and no failure may be an unhandled error ("internal error": a crash path in the services).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attr, AttributeName, encodeTemplateAttribute } from '../../../src/kmip/attributes.js';
import { BlockCipherMode, CryptographicAlgorithm as Alg, CryptographicUsageMask as U, DerivationMethod, EncodingOption, HashingAlgorithm, KeyFormatType, ObjectType, PaddingMethod, ResultStatus, WrappingMethod } from '../../../src/kmip/enums.js';
import { encodeRequestMessage } from '../../../src/kmip/message/request.js';
import { decodeResponseMessage } from '../../../src/kmip/message/response.js';
import { Operation } from '../../../src/kmip/operation-codes.js';
import { decodeCreateKeyPairResponse, encodeCreateKeyPairRequest } from '../../../src/kmip/payloads/create-key-pair.js';
import { encodeDecryptRequest } from '../../../src/kmip/payloads/decrypt.js';
import { encodeDeriveKeyRequest } from '../../../src/kmip/payloads/derive-key.js';
import { encodeEncryptRequest } from '../../../src/kmip/payloads/encrypt.js';
import { encodeGetRequest } from '../../../src/kmip/payloads/get.js';
import { encodeHashRequest } from '../../../src/kmip/payloads/hash.js';
import { encodeKeyWrappingData, encodeKeyWrappingSpecification } from '../../../src/kmip/payloads/key-wrapping.js';
import { encodeMacRequest } from '../../../src/kmip/payloads/mac.js';
import { encodeRngRetrieveRequest } from '../../../src/kmip/payloads/rng-retrieve.js';
import { encodeSignRequest } from '../../../src/kmip/payloads/sign.js';
import { Tag } from '../../../src/kmip/tags.js';
import { decodeTtlv, encodeTtlv, ttlv, type TtlvItem } from '../../../src/kmip/ttlv/index.js';
import { mutate, prng } from '../../kmip/fuzz-lib.js';
import { openHarness } from '../harness.js';
import { cryptoDriver } from './kms-driver.js';

const CASES = 1500;
let h: Awaited<ReturnType<typeof openHarness>>;
const seeds: Buffer[] = [];
const message = (operation: number, payload: TtlvItem): Buffer =>
  encodeTtlv(encodeRequestMessage({ header: { protocolVersion: { major: 1, minor: 4 }, batchCount: 1 }, batchItems: [{ operation, payload }] }));

beforeAll(async () => {
  h = await openHarness();
  const kms = cryptoDriver(h, 'fuzzer');
  const all = U.Encrypt | U.Decrypt | U.MacGenerate | U.MacVerify | U.DeriveKey | U.WrapKey | U.UnwrapKey;
  const key = await kms.aesKey(Buffer.alloc(32, 1), all);
  const pw = await kms.password('fuzz password', U.DeriveKey);
  const pairPayload = encodeCreateKeyPairRequest({
    common: { templateNames: [], attributes: [attr.enumeration(AttributeName.CryptographicAlgorithm, Alg.RSA), attr.int(AttributeName.CryptographicLength, 2048), attr.date(AttributeName.ActivationDate, new Date(0))] },
    privateKey: { templateNames: [], attributes: [attr.int(AttributeName.CryptographicUsageMask, U.Sign | U.Decrypt | U.UnwrapKey)] },
    publicKey: { templateNames: [], attributes: [attr.int(AttributeName.CryptographicUsageMask, U.Verify | U.Encrypt | U.WrapKey)] },
  });
  const pair = decodeCreateKeyPairResponse(await kms.ok(Operation.CreateKeyPair, pairPayload));
  const gcm = { blockCipherMode: BlockCipherMode.GCM };
  const cbc = { blockCipherMode: BlockCipherMode.CBC, paddingMethod: PaddingMethod.PKCS5 };
  const spec = (kek: string) => encodeKeyWrappingSpecification({ wrappingMethod: WrappingMethod.Encrypt, encryptionKeyInformation: { uniqueIdentifier: kek }, attributeNames: [], encodingOption: EncodingOption.NoEncoding });
  seeds.push(
    message(Operation.Encrypt, encodeEncryptRequest({ uniqueIdentifier: key, cryptographicParameters: gcm, data: Buffer.alloc(48, 2), authenticatedEncryptionAdditionalData: Buffer.from('aad') })),
    message(Operation.Encrypt, encodeEncryptRequest({ uniqueIdentifier: key, cryptographicParameters: gcm, data: Buffer.alloc(20, 2), initIndicator: true })),
    message(Operation.Decrypt, encodeDecryptRequest({ uniqueIdentifier: key, cryptographicParameters: cbc, data: Buffer.alloc(32, 3), ivCounterNonce: Buffer.alloc(16, 4) })),
    message(Operation.Decrypt, encodeDecryptRequest({ uniqueIdentifier: key, cryptographicParameters: gcm, data: Buffer.alloc(16, 3), ivCounterNonce: Buffer.alloc(12), authenticatedEncryptionTag: Buffer.alloc(16) })),
    message(Operation.MAC, encodeMacRequest({ uniqueIdentifier: key, cryptographicParameters: { cryptographicAlgorithm: Alg.HMAC_SHA256 }, data: Buffer.from('m') })),
    message(Operation.Sign, encodeSignRequest({ uniqueIdentifier: pair.privateKeyUniqueIdentifier, cryptographicParameters: { paddingMethod: PaddingMethod.PSS, hashingAlgorithm: HashingAlgorithm.SHA256 }, data: Buffer.from('s') })),
    message(Operation.Encrypt, encodeEncryptRequest({ uniqueIdentifier: pair.publicKeyUniqueIdentifier, cryptographicParameters: { paddingMethod: PaddingMethod.OAEP }, data: Buffer.alloc(16, 5) })),
    message(Operation.DeriveKey, encodeDeriveKeyRequest({
      objectType: ObjectType.SymmetricKey,
      uniqueIdentifiers: [pw],
      derivationMethod: DerivationMethod.PBKDF2,
      derivationParameters: { salt: Buffer.from('salt'), iterationCount: 2 },
      templateAttribute: { templateNames: [], attributes: [attr.enumeration(AttributeName.CryptographicAlgorithm, Alg.AES), attr.int(AttributeName.CryptographicLength, 128)] },
    })),
    message(Operation.Hash, encodeHashRequest({ cryptographicParameters: { hashingAlgorithm: HashingAlgorithm.SHA256 }, data: Buffer.from('h') })),
    message(Operation.RNGRetrieve, encodeRngRetrieveRequest({ dataLength: 16 })),
    message(Operation.Get, encodeGetRequest({ uniqueIdentifier: key, keyWrappingSpecification: spec(key) })),
    message(Operation.Get, encodeGetRequest({ uniqueIdentifier: pw, keyWrappingSpecification: spec(pair.publicKeyUniqueIdentifier) })),
    message(
      Operation.Register,
      ttlv.struct(Tag.RequestPayload, [
        ttlv.enumeration(Tag.ObjectType, ObjectType.SymmetricKey),
        encodeTemplateAttribute({ templateNames: [], attributes: [] }),
        ttlv.struct(Tag.SymmetricKey, [
          ttlv.struct(Tag.KeyBlock, [
            ttlv.enumeration(Tag.KeyFormatType, KeyFormatType.Raw),
            ttlv.bytes(Tag.KeyValue, Buffer.alloc(24, 6)),
            encodeKeyWrappingData({ wrappingMethod: WrappingMethod.Encrypt, encryptionKeyInformation: { uniqueIdentifier: key } }),
          ]),
        ]),
      ]),
    ),
  );
});
afterAll(async () => {
  await h.close();
});

describe('cryptographic services fuzz', () => {
  it('every mutated request gets a Response Message, and none fails with an internal error', async () => {
    const rnd = prng(0xc0ffee);
    let succeeded = 0;
    const internal: string[] = [];
    for (let n = 0; n < CASES; n++) {
      let msg = seeds[rnd() % seeds.length]!;
      const rounds = rnd() % 3; // 0: the seed itself
      for (let r = 0; r < rounds; r++) msg = mutate(msg, rnd);
      const resp = decodeResponseMessage(decodeTtlv(await h.server.handleMessage('fuzzer', msg)));
      for (const item of resp.batchItems) {
        if (item.resultStatus === ResultStatus.Success) succeeded++;
        if (item.resultMessage === 'internal error') internal.push(`case ${n}: ${msg.toString('hex')}`);
      }
    }
    expect(internal).toEqual([]);
    expect(succeeded).toBeGreaterThan(100);
  });
});
