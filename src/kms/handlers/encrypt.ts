import { CryptographicUsageMask, ObjectType } from '../../kmip/enums.js';
import { decodeEncryptRequest, encodeEncryptResponse, type EncryptRequest } from '../../kmip/payloads/encrypt.js';
import type { OpContext, OperationHandler, OpResult } from '../context.js';
import { rsaOaepEncrypt } from '../crypto-services/asymmetric.js';
import { keepEncryptStream, openEncryptStream, takeEncryptStream } from '../crypto-services/encrypt-streams.js';
import { loadKeyForUse } from '../crypto-services/key-use.js';
import { consumeUsage, hasUsageLimits } from '../crypto-services/usage-limits.js';
import { KmipError } from '../../kmip/errors.js';
import { requiredData, requireKmip12, requireSingleShot } from '../crypto-services/single-shot.js';
import { finishEncryption, startEncryption } from '../crypto-services/symmetric-cipher.js';

/**
 * Encrypt (KMIP 1.4 §4.29) with a managed symmetric key: AES GCM / CBC / CTR / ECB (3DES CBC/ECB), or
 * RSA-OAEP with a public key; Cryptographic Parameters from the request or else the key's attribute;
 * an Active key with the Encrypt usage bit. Symmetric encryption may come in parts: Init Indicator
 * opens a stream (its Correlation Value answered), the Correlation Value continues it, Final
 * Indicator ends it (encrypt-streams.ts). The key bytes are zeroed once OpenSSL has its context;
 * the plaintext is wiped with the request. A key with Usage Limits (§3.21) pays for the data first.
 */
export const handleEncrypt: OperationHandler = async (ctx, payload) => {
  const req = decodeEncryptRequest(payload);
  requireKmip12(ctx.version, 'Encrypt');
  const data = requiredData(req.data, 'Encrypt');
  if (req.correlationValue !== undefined) return continueStream(ctx, req, req.correlationValue, data);
  const opening = req.initIndicator === true && req.finalIndicator !== true;
  if (!opening) requireSingleShot(req, 'Encrypt');
  const key = await loadKeyForUse(ctx, req.uniqueIdentifier, {
    use: 'protect',
    mask: CryptographicUsageMask.Encrypt,
    operation: 'Encrypt',
    objectTypes: [ObjectType.SymmetricKey, ObjectType.PublicKey],
  });
  if (hasUsageLimits(key.object)) {
    if (opening) {
      key.material.fill(0);
      throw new KmipError('KMIP_FEATURE_NOT_SUPPORTED', 'Encrypt in parts with a key that has Usage Limits is not supported');
    }
    try {
      await consumeUsage(ctx, key.object, data.length, 'Encrypt');
    } catch (err) {
      key.material.fill(0);
      throw err;
    }
  }
  if (key.keyObject !== undefined) {
    requireSingleShot(req, 'RSA Encrypt');
    const out = rsaOaepEncrypt(key.keyObject, req.cryptographicParameters ?? key.parameters ?? {}, data);
    return { objectId: key.id, payload: encodeEncryptResponse({ uniqueIdentifier: key.id, data: out }) };
  }
  let run;
  try {
    run = startEncryption(
      {
        algorithm: key.algorithm,
        key: key.material,
        params: req.cryptographicParameters ?? key.parameters ?? {},
        data,
        ...(req.ivCounterNonce === undefined ? {} : { iv: req.ivCounterNonce }),
        ...(req.authenticatedEncryptionAdditionalData === undefined ? {} : { aad: req.authenticatedEncryptionAdditionalData }),
      },
      ctx.deps.randomBytes,
    );
  } finally {
    key.material.fill(0);
  }
  const first = run.cipher.update(data);
  const iv = run.generatedIv === undefined ? {} : { ivCounterNonce: run.generatedIv };
  if (opening) {
    const correlationValue = openEncryptStream(ctx, key.id, run, data.length);
    return { objectId: key.id, payload: encodeEncryptResponse({ uniqueIdentifier: key.id, data: first, ...iv, correlationValue }) };
  }
  const last = finishEncryption(run);
  const tag = last.tag === undefined ? {} : { authenticatedEncryptionTag: last.tag };
  return { objectId: key.id, payload: encodeEncryptResponse({ uniqueIdentifier: key.id, data: Buffer.concat([first, last.data]), ...iv, ...tag }) };
};

/** The next part of a multi-part Encrypt; its last part (Final Indicator) answers the tag. */
function continueStream(ctx: OpContext, req: EncryptRequest, correlationValue: Buffer, data: Buffer): OpResult {
  const s = takeEncryptStream(ctx, correlationValue, req.uniqueIdentifier, data.length);
  const part = s.run.cipher.update(data);
  if (req.finalIndicator !== true) {
    keepEncryptStream(ctx, s);
    return { objectId: s.keyId, payload: encodeEncryptResponse({ uniqueIdentifier: s.keyId, data: part, correlationValue }) };
  }
  const last = finishEncryption(s.run);
  const tag = last.tag === undefined ? {} : { authenticatedEncryptionTag: last.tag };
  return { objectId: s.keyId, payload: encodeEncryptResponse({ uniqueIdentifier: s.keyId, data: Buffer.concat([part, last.data]), ...tag }) };
}
