import { AttributeName } from '../../kmip/attributes.js';
import { ObjectType } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import { decodeGetRequest, encodeGetObjectResponse } from '../../kmip/payloads/get.js';
import type { OperationHandler } from '../context.js';
import { enumValue } from '../managed-object.js';
import { loadOwned, updateOwned } from '../object-access.js';
import { checkExtractable, isFresh, markServed } from '../server-attributes.js';
import { contentForGet } from './get-content.js';

/**
 * Get (KMIP 1.4 §4.11): the object's content in the requested Key Format Type, or its default
 * (get-content.ts). The unsealed bytes and every converted form are listed in `secrets`: the
 * dispatcher zeroes them once the response is encoded. A Sensitive or non-Extractable object's
 * material is refused in clear (§3.45, §3.47) and served only to the wrapping Get
 * (key-wrap/wrap-on-get.ts). Once served, the object is no longer Fresh (§3.34): that write is
 * durable before the response leaves (OpResult.durable).
 */
function makeGetHandler(wrapped: boolean): OperationHandler {
  return async (ctx, payload) => {
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
    // KMIP 1.4 §4.21: Destroy deletes the content and may keep the metadata; the content is then
    // absent, so Get answers Item Not Found (as the 1.4 test cases and PyKMIP's server do), while
    // Get Attributes still reports State Destroyed and the Destroy Date.
    if (obj.record.sealedKey === null) throw new KmipError('KMIP_ITEM_NOT_FOUND', `object ${id} is destroyed; its content is gone`);
    checkExtractable(obj.attributes, wrapped);
    const plain = ctx.deps.sealer.unseal(id, obj.record.sealedKey);
    let secrets: readonly Buffer[] = [plain];
    try {
      const got = contentForGet(objectType, plain, obj.attributes, req.keyFormatType);
      secrets = got.secrets;
      const payload = encodeGetObjectResponse({ uniqueIdentifier: id, content: got.content });
      // The flip's fsync runs alongside the audit log's: the message layer waits for both.
      const durable = isFresh(obj.attributes) ? updateOwned(ctx, id, (o) => markServed(o.attributes), 'read', obj).then(() => {}) : undefined;
      durable?.catch(() => {}); // observed by the message layer; never an unhandled rejection
      return { objectId: id, secrets, payload, ...(durable === undefined ? {} : { durable }) };
    } catch (err) {
      for (const s of secrets) s.fill(0);
      throw err;
    }
  };
}

export const handleGet: OperationHandler = makeGetHandler(false);

/** The Get that a Key Wrapping Specification wraps: the material leaves only wrapped. */
export const handleGetToWrap: OperationHandler = makeGetHandler(true);
