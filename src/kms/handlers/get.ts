import { CryptographicAlgorithm, KeyFormatType, ObjectType } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import { decodeGetRequest, encodeGetResponse } from '../../kmip/payloads/get.js';
import type { OperationHandler } from '../context.js';
import { loadOwned } from '../object-access.js';

/**
 * Get (KMIP 1.1 §4.11): the key in Raw (default) or Transparent Symmetric Key format.
 * The unsealed key is listed in `secrets`: the dispatcher zeroes it once the response is encoded.
 */
export const handleGet: OperationHandler = async (ctx, payload) => {
  const req = decodeGetRequest(payload);
  if (req.keyWrappingSpecification !== undefined) {
    throw new KmipError('KMIP_FEATURE_NOT_SUPPORTED', 'key wrapping on Get is not supported');
  }
  if (req.keyCompressionType !== undefined) {
    throw new KmipError('KMIP_FEATURE_NOT_SUPPORTED', 'key compression is not supported for symmetric keys');
  }
  const format = req.keyFormatType ?? KeyFormatType.Raw;
  if (format !== KeyFormatType.Raw && format !== KeyFormatType.TransparentSymmetricKey) {
    throw new KmipError('KMIP_KEY_FORMAT_NOT_SUPPORTED', `key format type ${format} is not supported for symmetric keys`);
  }
  const obj = await loadOwned(ctx, req.uniqueIdentifier, 'read');
  const id = obj.record.id;
  // KMIP 1.4 §4.21: Destroy deletes the content and may keep the metadata; the content is then
  // absent, so Get answers Item Not Found (as the 1.4 test cases and PyKMIP's server do), while
  // Get Attributes still reports State Destroyed and the Destroy Date.
  if (obj.record.sealedKey === null) throw new KmipError('KMIP_ITEM_NOT_FOUND', `object ${id} is destroyed; its content is gone`);
  const material = ctx.deps.sealer.unseal(id, obj.record.sealedKey);
  return {
    objectId: id,
    secrets: [material],
    payload: encodeGetResponse({
      objectType: ObjectType.SymmetricKey,
      uniqueIdentifier: id,
      symmetricKey: { formatType: format, material, algorithm: CryptographicAlgorithm.AES, length: material.length * 8 },
    }),
  };
};
