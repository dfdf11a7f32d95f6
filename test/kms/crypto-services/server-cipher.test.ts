// Encrypt, Decrypt, MAC and MAC Verify through the real KeyServer (SQLite store, sealed keys, audit).
import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { attr, AttributeName } from '../../../src/kmip/attributes.js';
import { BlockCipherMode, CryptographicAlgorithm, CryptographicUsageMask as U, PaddingMethod, ResultReason, ResultStatus, RevocationReasonCode, ValidityIndicator } from '../../../src/kmip/enums.js';
import { Operation } from '../../../src/kmip/operation-codes.js';
import { decodeDecryptResponse, encodeDecryptRequest } from '../../../src/kmip/payloads/decrypt.js';
import { decodeEncryptResponse, encodeEncryptRequest } from '../../../src/kmip/payloads/encrypt.js';
import { decodeMacResponse, encodeMacRequest } from '../../../src/kmip/payloads/mac.js';
import { decodeVerifyResponse, encodeMacVerifyRequest } from '../../../src/kmip/payloads/mac-verify.js';
import { encodeAddAttributeRequest } from '../../../src/kmip/payloads/add-attribute.js';
import { encodeRevokeRequest } from '../../../src/kmip/payloads/revoke.js';
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

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
// NIST SP 800-38A F.2.1 (CBC-AES128), public domain.
const nistKey = hex('2b7e151628aed2a6abf7158809cf4f3c');
const nistIv = hex('000102030405060708090a0b0c0d0e0f');
const nistPlain = hex('6bc1bee22e409f96e93d7e117393172a');
const gcm = { blockCipherMode: BlockCipherMode.GCM };

describe('Encrypt / Decrypt on the key server', () => {
  it('CBC with the client IV gives the NIST ciphertext, and decrypts back', async () => {
    const id = await kms.aesKey(nistKey, U.Encrypt | U.Decrypt);
    const params = { blockCipherMode: BlockCipherMode.CBC, paddingMethod: PaddingMethod.None };
    const enc = decodeEncryptResponse(await kms.ok(Operation.Encrypt, encodeEncryptRequest({ uniqueIdentifier: id, cryptographicParameters: params, data: nistPlain, ivCounterNonce: nistIv })));
    expect(enc.data?.toString('hex')).toBe('7649abac8119b246cee98e9b12e9197d');
    expect(enc.ivCounterNonce).toBeUndefined(); // the client's IV is not echoed
    const dec = decodeDecryptResponse(await kms.ok(Operation.Decrypt, encodeDecryptRequest({ uniqueIdentifier: id, cryptographicParameters: params, data: enc.data!, ivCounterNonce: nistIv })));
    expect(dec.data?.equals(nistPlain)).toBe(true);
  });

  it('GCM: a server-drawn 12-byte IV and a 16-byte tag come back; AAD binds; a bad tag is Cryptographic Failure', async () => {
    const id = await kms.aesKey(Buffer.alloc(32, 7), U.Encrypt | U.Decrypt);
    const data = Buffer.alloc(4096, 0x5a);
    const aad = Buffer.from('vm-42/nvram');
    const enc = decodeEncryptResponse(await kms.ok(Operation.Encrypt, encodeEncryptRequest({ uniqueIdentifier: id, cryptographicParameters: gcm, data, authenticatedEncryptionAdditionalData: aad })));
    expect(enc.ivCounterNonce?.length).toBe(12);
    expect(enc.authenticatedEncryptionTag?.length).toBe(16);
    expect(enc.data?.length).toBe(4096);
    const decReq = { uniqueIdentifier: id, cryptographicParameters: gcm, data: enc.data!, ivCounterNonce: enc.ivCounterNonce!, authenticatedEncryptionAdditionalData: aad, authenticatedEncryptionTag: enc.authenticatedEncryptionTag! };
    expect(decodeDecryptResponse(await kms.ok(Operation.Decrypt, encodeDecryptRequest(decReq))).data?.equals(data)).toBe(true);
    const other = await kms.call(Operation.Decrypt, encodeDecryptRequest({ ...decReq, authenticatedEncryptionAdditionalData: Buffer.from('vm-43/nvram') }));
    expect(other.resultReason).toBe(ResultReason.CryptographicFailure);
    // Two encryptions never share an IV.
    const again = decodeEncryptResponse(await kms.ok(Operation.Encrypt, encodeEncryptRequest({ uniqueIdentifier: id, cryptographicParameters: gcm, data })));
    expect(again.ivCounterNonce?.equals(enc.ivCounterNonce ?? Buffer.alloc(0))).toBe(false);
  });

  it("the key's Cryptographic Parameters attribute is the default of a request without parameters", async () => {
    const id = await kms.aesKey(nistKey, U.Encrypt | U.Decrypt);
    // The attribute is set on Register; the request names none.
    const keyed = await kms.aesKey(nistKey, U.Encrypt, [{ name: AttributeName.CryptographicParameters, value: { tag: 0x42000b, type: 'Structure', value: [{ tag: 0x420011, type: 'Enumeration', value: BlockCipherMode.ECB }, { tag: 0x42005f, type: 'Enumeration', value: PaddingMethod.None }] } }]);
    const enc = decodeEncryptResponse(await kms.ok(Operation.Encrypt, encodeEncryptRequest({ uniqueIdentifier: keyed, data: nistPlain })));
    expect(enc.data?.toString('hex')).toBe('3ad77bb40d7a3660a89ecaf32466ef97'); // SP 800-38A F.1.1
    const none = await kms.call(Operation.Encrypt, encodeEncryptRequest({ uniqueIdentifier: id, data: nistPlain }));
    expect(none.resultReason).toBe(ResultReason.InvalidField);
  });

  it('state and usage mask: Pre-Active refused; Deactivated decrypts but does not encrypt; no Encrypt bit, no encrypt', async () => {
    const id = await kms.aesKey(Buffer.alloc(16, 1), U.Encrypt | U.Decrypt);
    const enc = decodeEncryptResponse(await kms.ok(Operation.Encrypt, encodeEncryptRequest({ uniqueIdentifier: id, cryptographicParameters: gcm, data: nistPlain })));
    await kms.ok(Operation.Revoke, encodeRevokeRequest({ uniqueIdentifier: id, revocationReason: { code: RevocationReasonCode.CessationOfOperation } }));
    expect((await kms.call(Operation.Encrypt, encodeEncryptRequest({ uniqueIdentifier: id, cryptographicParameters: gcm, data: nistPlain }))).resultReason).toBe(ResultReason.PermissionDenied);
    const dec = await kms.ok(Operation.Decrypt, encodeDecryptRequest({ uniqueIdentifier: id, cryptographicParameters: gcm, data: enc.data!, ivCounterNonce: enc.ivCounterNonce!, authenticatedEncryptionTag: enc.authenticatedEncryptionTag! }));
    expect(decodeDecryptResponse(dec).data?.equals(nistPlain)).toBe(true);

    const encryptOnly = await kms.aesKey(Buffer.alloc(16, 2), U.Encrypt);
    const e2 = decodeEncryptResponse(await kms.ok(Operation.Encrypt, encodeEncryptRequest({ uniqueIdentifier: encryptOnly, cryptographicParameters: gcm, data: nistPlain })));
    const refused = await kms.call(Operation.Decrypt, encodeDecryptRequest({ uniqueIdentifier: encryptOnly, cryptographicParameters: gcm, data: e2.data!, ivCounterNonce: e2.ivCounterNonce!, authenticatedEncryptionTag: e2.authenticatedEncryptionTag! }));
    expect(refused.resultReason).toBe(ResultReason.PermissionDenied);

    const preActive = await kms.aesKey(Buffer.alloc(16, 3), U.Encrypt, [attr.date(AttributeName.ActivationDate, new Date(Date.now() + 86_400_000))]);
    expect((await kms.call(Operation.Encrypt, encodeEncryptRequest({ uniqueIdentifier: preActive, cryptographicParameters: gcm, data: nistPlain }))).resultReason).toBe(ResultReason.PermissionDenied);
  });

  it('another identity is refused; KMIP 1.1 has no Encrypt; a multi-part Decrypt is Feature Not Supported', async () => {
    const id = await kms.aesKey(Buffer.alloc(16, 4), U.Encrypt | U.Decrypt);
    const req = encodeEncryptRequest({ uniqueIdentifier: id, cryptographicParameters: gcm, data: nistPlain });
    expect((await kms.call(Operation.Encrypt, req, undefined, 'mallory')).resultReason).toBe(ResultReason.PermissionDenied);
    expect((await kms.call(Operation.Encrypt, req, { major: 1, minor: 1 })).resultReason).toBe(ResultReason.OperationNotSupported);
    const stream = encodeDecryptRequest({ uniqueIdentifier: id, cryptographicParameters: gcm, data: nistPlain, initIndicator: true });
    expect((await kms.call(Operation.Decrypt, stream)).resultReason).toBe(ResultReason.FeatureNotSupported);
  });

  it('a multi-part Encrypt (Init, Correlation Value, Final) gives the one-shot ciphertext and tag; only its opener continues it', async () => {
    const id = await kms.aesKey(Buffer.alloc(32, 5), U.Encrypt);
    const data = Buffer.alloc(100, 0x42);
    const iv = Buffer.alloc(12, 1);
    const aad = Buffer.from('header');
    const whole = decodeEncryptResponse(await kms.ok(Operation.Encrypt, encodeEncryptRequest({ uniqueIdentifier: id, cryptographicParameters: gcm, data, ivCounterNonce: iv, authenticatedEncryptionAdditionalData: aad })));
    const p1 = decodeEncryptResponse(
      await kms.ok(Operation.Encrypt, encodeEncryptRequest({ uniqueIdentifier: id, cryptographicParameters: gcm, data: data.subarray(0, 40), ivCounterNonce: iv, authenticatedEncryptionAdditionalData: aad, initIndicator: true })),
    );
    expect(p1.correlationValue?.length).toBe(16);
    const next = { uniqueIdentifier: id, data: data.subarray(40, 70), correlationValue: p1.correlationValue! };
    expect((await kms.call(Operation.Encrypt, encodeEncryptRequest(next), undefined, 'mallory')).resultReason).toBe(ResultReason.InvalidField);
    const p2 = decodeEncryptResponse(await kms.ok(Operation.Encrypt, encodeEncryptRequest(next)));
    const p3 = decodeEncryptResponse(await kms.ok(Operation.Encrypt, encodeEncryptRequest({ ...next, data: data.subarray(70), finalIndicator: true })));
    expect(Buffer.concat([p1.data!, p2.data!, p3.data!]).equals(whole.data!)).toBe(true);
    expect(p3.authenticatedEncryptionTag?.equals(whole.authenticatedEncryptionTag!)).toBe(true);
    // The stream is closed.
    expect((await kms.call(Operation.Encrypt, encodeEncryptRequest({ ...next, finalIndicator: true }))).resultReason).toBe(ResultReason.InvalidField);
  });

  it('a grantee (x-vmcrypt-grant) may use the key; the grant stays read-and-use, not change', async () => {
    const id = await kms.aesKey(Buffer.alloc(16, 6), U.Encrypt | U.Decrypt);
    const req = encodeEncryptRequest({ uniqueIdentifier: id, cryptographicParameters: gcm, data: nistPlain });
    expect((await kms.call(Operation.Encrypt, req, undefined, 'bob')).resultReason).toBe(ResultReason.PermissionDenied);
    await kms.ok(Operation.AddAttribute, encodeAddAttributeRequest({ uniqueIdentifier: id, attribute: attr.text('x-vmcrypt-grant', 'bob') }));
    expect((await kms.call(Operation.Encrypt, req, undefined, 'bob')).resultStatus).toBe(ResultStatus.Success);
    const revoke = encodeRevokeRequest({ uniqueIdentifier: id, revocationReason: { code: RevocationReasonCode.CessationOfOperation } });
    expect((await kms.call(Operation.Revoke, revoke, undefined, 'bob')).resultReason).toBe(ResultReason.PermissionDenied);
  });

  it('audit lines name the key and never hold key bytes, plaintext or ciphertext', async () => {
    const key = Buffer.alloc(32, 0x6b);
    const id = await kms.aesKey(key, U.Encrypt | U.Decrypt);
    const secret = Buffer.from('attack at dawn, bring the keys!!');
    const enc = decodeEncryptResponse(await kms.ok(Operation.Encrypt, encodeEncryptRequest({ uniqueIdentifier: id, cryptographicParameters: gcm, data: secret })));
    await kms.call(Operation.Decrypt, encodeDecryptRequest({ uniqueIdentifier: id, cryptographicParameters: gcm, data: enc.data!, ivCounterNonce: enc.ivCounterNonce!, authenticatedEncryptionTag: Buffer.alloc(16) }));
    const lines = JSON.stringify(h.audit.entries);
    expect(h.audit.entries.filter((e) => e.objectId === id).map((e) => `${e.operation}:${e.result}`)).toEqual(['Register:success', 'Encrypt:success', 'Decrypt:failure']);
    for (const b of [key, secret, enc.data ?? Buffer.alloc(1)]) {
      expect(lines).not.toContain(b.toString('hex'));
      expect(lines).not.toContain(b.toString('base64'));
    }
    expect(lines).not.toContain('attack at dawn');
  });
});

describe('MAC / MAC Verify on the key server', () => {
  it('HMAC-SHA256 with an AES key naming it, verified Valid, and Invalid once the data changes', async () => {
    const key = Buffer.alloc(32, 0x21);
    const id = await kms.aesKey(key, U.MacGenerate | U.MacVerify);
    const data = Buffer.from('the quick brown fox');
    const params = { cryptographicAlgorithm: CryptographicAlgorithm.HMAC_SHA256 };
    const mac = decodeMacResponse(await kms.ok(Operation.MAC, encodeMacRequest({ uniqueIdentifier: id, cryptographicParameters: params, data })));
    expect(mac.macData?.equals(createHmac('sha256', key).update(data).digest())).toBe(true);
    const verify = async (d: Buffer) =>
      decodeVerifyResponse(await kms.ok(Operation.MACVerify, encodeMacVerifyRequest({ uniqueIdentifier: id, cryptographicParameters: params, data: d, macData: mac.macData! }))).validityIndicator;
    expect(await verify(data)).toBe(ValidityIndicator.Valid);
    expect(await verify(Buffer.from('the quick brown fax'))).toBe(ValidityIndicator.Invalid);
  });

  it('a key without the MAC Generate bit is refused; no HMAC named is Invalid Field', async () => {
    const id = await kms.aesKey(Buffer.alloc(32, 0x22), U.Encrypt);
    const r = await kms.call(Operation.MAC, encodeMacRequest({ uniqueIdentifier: id, cryptographicParameters: { cryptographicAlgorithm: CryptographicAlgorithm.HMAC_SHA256 }, data: Buffer.from('x') }));
    expect(r.resultReason).toBe(ResultReason.PermissionDenied);
    const macKey = await kms.aesKey(Buffer.alloc(32, 0x23), U.MacGenerate);
    const r2 = await kms.call(Operation.MAC, encodeMacRequest({ uniqueIdentifier: macKey, data: Buffer.from('x') }));
    expect(r2.resultStatus).toBe(ResultStatus.OperationFailed);
    expect(r2.resultReason).toBe(ResultReason.InvalidField);
  });
});
