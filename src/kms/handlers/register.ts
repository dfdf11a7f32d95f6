import { AttributeName } from '../../kmip/attributes.js';
import { CryptographicAlgorithm, KeyFormatType, ObjectType } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import { contentBytes, type ObjectContent } from '../../kmip/objects/object-content.js';
import { decodeRegisterObjectRequest, encodeRegisterResponse } from '../../kmip/payloads/register.js';
import type { OpContext, OperationHandler } from '../context.js';
import { enumValue } from '../managed-object.js';
import type { KeyRecord } from '../store/types.js';
import { storeNewKey, storeNewObject } from './new-object.js';
import { packContent } from './stored-content.js';

/**
 * Register (KMIP 1.4 §4.3): store a client-supplied AES key (Raw or Transparent Symmetric Key),
 * Secret Data (Opaque key format) or Opaque Object. Every byte received is zeroed before returning.
 */
export const handleRegister: OperationHandler = async (ctx, payload) => {
  const req = decodeRegisterObjectRequest(payload);
  try {
    if (req.templateAttribute.templateNames.length > 0) {
      throw new KmipError('KMIP_FEATURE_NOT_SUPPORTED', 'Template objects are not supported; send attributes');
    }
    const attrs = req.templateAttribute.attributes;
    const record = req.content.objectType === ObjectType.SymmetricKey ? await registerKey(ctx, req.content, attrs) : await registerOther(ctx, req.content, attrs);
    ctx.batch.idPlaceholder = record.id;
    return { objectId: record.id, payload: encodeRegisterResponse({ uniqueIdentifier: record.id }) };
  } finally {
    contentBytes(req.content).fill(0);
  }
};

type Template = Parameters<typeof storeNewKey>[1];

async function registerKey(ctx: OpContext, content: ObjectContent & { objectType: typeof ObjectType.SymmetricKey }, attrs: Template): Promise<KeyRecord> {
  const key = content.symmetricKey;
  if (key.formatType !== KeyFormatType.Raw && key.formatType !== KeyFormatType.TransparentSymmetricKey) {
    throw new KmipError('KMIP_KEY_FORMAT_NOT_SUPPORTED', `key format type ${key.formatType} is not supported`);
  }
  const alg = key.algorithm ?? enumValue(attrs, AttributeName.CryptographicAlgorithm);
  if (alg !== undefined && alg !== CryptographicAlgorithm.AES) {
    throw new KmipError('KMIP_INVALID_FIELD', `Cryptographic Algorithm ${alg} is not supported (AES only)`);
  }
  if (key.length !== undefined && key.length !== key.material.length * 8) {
    throw new KmipError('KMIP_INVALID_FIELD', 'Cryptographic Length does not match the key material');
  }
  return storeNewKey(ctx, attrs, key.material);
}

async function registerOther(ctx: OpContext, content: ObjectContent, attrs: Template): Promise<KeyRecord> {
  const packed = packContent(content);
  try {
    return await storeNewObject(ctx, attrs, { objectType: content.objectType }, packed);
  } finally {
    packed.fill(0);
  }
}
