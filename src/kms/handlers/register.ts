import { AttributeName } from '../../kmip/attributes.js';
import { CryptographicAlgorithm, KeyFormatType } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import { decodeRegisterRequest, encodeRegisterResponse } from '../../kmip/payloads/register.js';
import type { OperationHandler } from '../context.js';
import { enumValue } from '../managed-object.js';
import { storeNewKey } from './new-object.js';

/** Register (KMIP 1.1 §4.3): store a client-supplied AES key (Raw or Transparent Symmetric Key). */
export const handleRegister: OperationHandler = async (ctx, payload) => {
  const req = decodeRegisterRequest(payload);
  const key = req.symmetricKey;
  try {
    if (req.templateAttribute.templateNames.length > 0) {
      throw new KmipError('KMIP_FEATURE_NOT_SUPPORTED', 'Template objects are not supported; send attributes');
    }
    if (key.formatType !== KeyFormatType.Raw && key.formatType !== KeyFormatType.TransparentSymmetricKey) {
      throw new KmipError('KMIP_KEY_FORMAT_NOT_SUPPORTED', `key format type ${key.formatType} is not supported`);
    }
    const alg = key.algorithm ?? enumValue(req.templateAttribute.attributes, AttributeName.CryptographicAlgorithm);
    if (alg !== undefined && alg !== CryptographicAlgorithm.AES) {
      throw new KmipError('KMIP_INVALID_FIELD', `Cryptographic Algorithm ${alg} is not supported (AES only)`);
    }
    if (key.length !== undefined && key.length !== key.material.length * 8) {
      throw new KmipError('KMIP_INVALID_FIELD', 'Cryptographic Length does not match the key material');
    }
    const record = await storeNewKey(ctx, req.templateAttribute.attributes, key.material);
    ctx.batch.idPlaceholder = record.id;
    return { objectId: record.id, payload: encodeRegisterResponse({ uniqueIdentifier: record.id }) };
  } finally {
    key.material.fill(0);
  }
};
