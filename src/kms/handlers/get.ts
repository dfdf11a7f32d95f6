import { AttributeName } from '../../kmip/attributes.js';
import { CryptographicAlgorithm, KeyFormatType, ObjectType } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import type { ObjectContent } from '../../kmip/objects/object-content.js';
import { decodeGetRequest, encodeGetObjectResponse } from '../../kmip/payloads/get.js';
import type { OperationHandler } from '../context.js';
import { enumValue } from '../managed-object.js';
import { loadOwned } from '../object-access.js';
import { unpackContent } from './stored-content.js';

/** Key Format Types each object type can be returned in; the first is the default (KMIP 1.4 §4.11). */
const formatsOf = new Map<number, readonly number[]>([
  [ObjectType.SymmetricKey, [KeyFormatType.Raw, KeyFormatType.TransparentSymmetricKey]],
  [ObjectType.SecretData, [KeyFormatType.Opaque]],
]);

/**
 * Get (KMIP 1.4 §4.11): a symmetric key in Raw (default) or Transparent Symmetric Key format,
 * secret data in Opaque format, an opaque object as stored. The unsealed bytes are listed in
 * `secrets`: the dispatcher zeroes them once the response is encoded.
 */
export const handleGet: OperationHandler = async (ctx, payload) => {
  const req = decodeGetRequest(payload);
  if (req.keyWrappingSpecification !== undefined) {
    throw new KmipError('KMIP_FEATURE_NOT_SUPPORTED', 'key wrapping on Get is not supported');
  }
  if (req.keyCompressionType !== undefined) {
    throw new KmipError('KMIP_FEATURE_NOT_SUPPORTED', 'key compression is not supported');
  }
  const obj = await loadOwned(ctx, req.uniqueIdentifier, 'read');
  const id = obj.record.id;
  const objectType = enumValue(obj.attributes, AttributeName.ObjectType) ?? ObjectType.SymmetricKey;
  const formats = formatsOf.get(objectType);
  const format = req.keyFormatType ?? formats?.[0];
  if (req.keyFormatType !== undefined && !formats?.includes(req.keyFormatType)) {
    throw new KmipError('KMIP_KEY_FORMAT_NOT_SUPPORTED', `key format type ${req.keyFormatType} is not supported for object type ${objectType}`);
  }
  // KMIP 1.4 §4.21: Destroy deletes the content and may keep the metadata; the content is then
  // absent, so Get answers Item Not Found (as the 1.4 test cases and PyKMIP's server do), while
  // Get Attributes still reports State Destroyed and the Destroy Date.
  if (obj.record.sealedKey === null) throw new KmipError('KMIP_ITEM_NOT_FOUND', `object ${id} is destroyed; its content is gone`);
  const plain = ctx.deps.sealer.unseal(id, obj.record.sealedKey);
  try {
    const content: ObjectContent = unpackContent(objectType, plain, () => ({
      objectType: ObjectType.SymmetricKey,
      symmetricKey: { formatType: format ?? KeyFormatType.Raw, material: plain, algorithm: CryptographicAlgorithm.AES, length: plain.length * 8 },
    }));
    return { objectId: id, secrets: [plain], payload: encodeGetObjectResponse({ uniqueIdentifier: id, content }) };
  } catch (err) {
    plain.fill(0);
    throw err;
  }
};
