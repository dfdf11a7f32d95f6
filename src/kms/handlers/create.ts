import { AttributeName } from '../../kmip/attributes.js';
import { CryptographicAlgorithm, ObjectType } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import { decodeCreateRequest, encodeCreateResponse } from '../../kmip/payloads/create.js';
import type { OperationHandler } from '../context.js';
import { enumValue } from '../managed-object.js';
import { storeNewKey } from './new-object.js';

/** Create (KMIP 1.1 §4.1): a fresh AES key of 128/192/256 bits from the server's CSPRNG. */
export const handleCreate: OperationHandler = async (ctx, payload) => {
  const req = decodeCreateRequest(payload);
  if (req.objectType !== ObjectType.SymmetricKey) {
    throw new KmipError('KMIP_INVALID_FIELD', `Create supports symmetric keys only (object type ${req.objectType})`);
  }
  if (req.templateAttribute.templateNames.length > 0) {
    throw new KmipError('KMIP_FEATURE_NOT_SUPPORTED', 'Template objects are not supported; send attributes');
  }
  const attrs = req.templateAttribute.attributes;
  const alg = enumValue(attrs, AttributeName.CryptographicAlgorithm);
  if (alg === undefined) throw new KmipError('KMIP_INVALID_FIELD', 'Create needs a Cryptographic Algorithm');
  if (alg !== CryptographicAlgorithm.AES) throw new KmipError('KMIP_INVALID_FIELD', `Cryptographic Algorithm ${alg} is not supported (AES only)`);
  const bits = enumValue(attrs, AttributeName.CryptographicLength);
  if (bits === undefined) throw new KmipError('KMIP_INVALID_FIELD', 'Create needs a Cryptographic Length');
  if (bits !== 128 && bits !== 192 && bits !== 256) throw new KmipError('KMIP_INVALID_FIELD', `AES keys are 128, 192 or 256 bits, not ${bits}`);
  const material = ctx.deps.randomBytes(bits / 8);
  try {
    const record = await storeNewKey(ctx, attrs, material);
    ctx.batch.idPlaceholder = record.id;
    return {
      objectId: record.id,
      payload: encodeCreateResponse({ objectType: ObjectType.SymmetricKey, uniqueIdentifier: record.id }),
    };
  } finally {
    material.fill(0);
  }
};
