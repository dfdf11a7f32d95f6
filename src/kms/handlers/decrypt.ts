import { CryptographicUsageMask, ObjectType } from '../../kmip/enums.js';
import { rsaOaepDecrypt } from '../crypto-services/asymmetric.js';
import { decodeDecryptRequest, encodeDecryptResponse } from '../../kmip/payloads/decrypt.js';
import type { OperationHandler } from '../context.js';
import { loadKeyForUse } from '../crypto-services/key-use.js';
import { requiredData, requireKmip12, requireSingleShot } from '../crypto-services/single-shot.js';
import { symmetricDecrypt } from '../crypto-services/symmetric-cipher.js';

/**
 * Decrypt (KMIP 1.4 §4.30): an Active, Deactivated or Compromised key with the Decrypt usage bit —
 * symmetric, or an RSA private key (OAEP).
 * The plaintext is listed in `secrets`, zeroed once the response is encoded.
 */
export const handleDecrypt: OperationHandler = async (ctx, payload) => {
  const req = decodeDecryptRequest(payload);
  requireKmip12(ctx.version, 'Decrypt');
  requireSingleShot(req, 'Decrypt');
  const data = requiredData(req.data, 'Decrypt');
  const key = await loadKeyForUse(ctx, req.uniqueIdentifier, {
    use: 'process',
    mask: CryptographicUsageMask.Decrypt,
    operation: 'Decrypt',
    objectTypes: [ObjectType.SymmetricKey, ObjectType.PrivateKey],
  });
  if (key.keyObject !== undefined) {
    const plain = rsaOaepDecrypt(key.keyObject, req.cryptographicParameters ?? key.parameters ?? {}, data);
    return { objectId: key.id, secrets: [plain], payload: encodeDecryptResponse({ uniqueIdentifier: key.id, data: plain }) };
  }
  try {
    const plain = symmetricDecrypt({
      algorithm: key.algorithm,
      key: key.material,
      params: req.cryptographicParameters ?? key.parameters ?? {},
      data,
      ...(req.ivCounterNonce === undefined ? {} : { iv: req.ivCounterNonce }),
      ...(req.authenticatedEncryptionAdditionalData === undefined ? {} : { aad: req.authenticatedEncryptionAdditionalData }),
      ...(req.authenticatedEncryptionTag === undefined ? {} : { tag: req.authenticatedEncryptionTag }),
    });
    return { objectId: key.id, secrets: [plain], payload: encodeDecryptResponse({ uniqueIdentifier: key.id, data: plain }) };
  } finally {
    key.material.fill(0);
  }
};
