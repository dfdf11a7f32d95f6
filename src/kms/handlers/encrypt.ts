import { CryptographicUsageMask, ObjectType } from '../../kmip/enums.js';
import { rsaOaepEncrypt } from '../crypto-services/asymmetric.js';
import { decodeEncryptRequest, encodeEncryptResponse } from '../../kmip/payloads/encrypt.js';
import type { OperationHandler } from '../context.js';
import { loadKeyForUse } from '../crypto-services/key-use.js';
import { requiredData, requireKmip12, requireSingleShot } from '../crypto-services/single-shot.js';
import { symmetricEncrypt } from '../crypto-services/symmetric-cipher.js';

/**
 * Encrypt (KMIP 1.4 §4.29) with a managed symmetric key: AES GCM / CBC / CTR / ECB (3DES CBC/ECB), or
 * RSA-OAEP with a public key;
 * Cryptographic Parameters from the request or else the key's attribute; an Active key with the
 * Encrypt usage bit. The key bytes are zeroed before returning; the plaintext is wiped with the request.
 */
export const handleEncrypt: OperationHandler = async (ctx, payload) => {
  const req = decodeEncryptRequest(payload);
  requireKmip12(ctx.version, 'Encrypt');
  requireSingleShot(req, 'Encrypt');
  const data = requiredData(req.data, 'Encrypt');
  const key = await loadKeyForUse(ctx, req.uniqueIdentifier, {
    use: 'protect',
    mask: CryptographicUsageMask.Encrypt,
    operation: 'Encrypt',
    objectTypes: [ObjectType.SymmetricKey, ObjectType.PublicKey],
  });
  if (key.keyObject !== undefined) {
    const out = rsaOaepEncrypt(key.keyObject, req.cryptographicParameters ?? key.parameters ?? {}, data);
    return { objectId: key.id, payload: encodeEncryptResponse({ uniqueIdentifier: key.id, data: out }) };
  }
  try {
    const out = symmetricEncrypt(
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
    return {
      objectId: key.id,
      payload: encodeEncryptResponse({
        uniqueIdentifier: key.id,
        data: out.data,
        ...(out.generatedIv === undefined ? {} : { ivCounterNonce: out.generatedIv }),
        ...(out.tag === undefined ? {} : { authenticatedEncryptionTag: out.tag }),
      }),
    };
  } finally {
    key.material.fill(0);
  }
};
