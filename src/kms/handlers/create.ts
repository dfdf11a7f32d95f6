import { AttributeName } from '../../kmip/attributes.js';
import { ObjectType } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import { decodeCreateRequest, encodeCreateResponse } from '../../kmip/payloads/create.js';
import type { OperationHandler } from '../context.js';
import { newSymmetricKey, symmetricKeyBytes } from '../keygen/symmetric-algorithms.js';
import { enumValue } from '../managed-object.js';
import { storeNewObject, symmetricKind } from './new-object.js';
import { resolveTemplateAttribute } from './template-names.js';

/**
 * Create (KMIP 1.4 §4.1): a fresh symmetric key from the server's CSPRNG — AES 128/192/256, 3DES
 * (168), HMAC-SHA1/224/256/384/512 — with the attributes of the Template-Attribute (and of the
 * templates it names).
 */
export const handleCreate: OperationHandler = async (ctx, payload) => {
  const req = decodeCreateRequest(payload);
  if (req.objectType !== ObjectType.SymmetricKey) {
    throw new KmipError('KMIP_INVALID_FIELD', `Create makes symmetric keys only (object type ${req.objectType}); Create Key Pair makes public and private keys`);
  }
  const attrs = await resolveTemplateAttribute(ctx, req.templateAttribute);
  const alg = enumValue(attrs, AttributeName.CryptographicAlgorithm);
  if (alg === undefined) throw new KmipError('KMIP_INVALID_FIELD', 'Create needs a Cryptographic Algorithm');
  const bits = enumValue(attrs, AttributeName.CryptographicLength);
  if (bits === undefined) throw new KmipError('KMIP_INVALID_FIELD', 'Create needs a Cryptographic Length');
  const material = newSymmetricKey(alg, symmetricKeyBytes(alg, bits), ctx.deps.randomBytes);
  try {
    const record = await storeNewObject(ctx, attrs, { ...symmetricKind(alg, bits), generated: true }, material);
    ctx.batch.idPlaceholder = record.id;
    return {
      objectId: record.id,
      payload: encodeCreateResponse({ objectType: ObjectType.SymmetricKey, uniqueIdentifier: record.id }),
    };
  } finally {
    material.fill(0);
  }
};
