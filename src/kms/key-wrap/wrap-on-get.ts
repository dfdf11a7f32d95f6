import { EncodingOption } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import { decodeKeyWrappingSpecification, encodeKeyWrappingData, type KeyWrappingSpecification } from '../../kmip/payloads/key-wrapping.js';
import { Tag } from '../../kmip/tags.js';
import { encodeTtlv, ttlv, type TtlvItem } from '../../kmip/ttlv/index.js';
import type { OpContext, OperationHandler, OpResult } from '../context.js';
import { loadWrappingKey, checkWrappingMethod, wrapKeyValue } from './wrapping-key.js';

/** Managed objects with a Key Block (KMIP 1.4 §2.2): the ones whose Key Value can be wrapped. */
export const KEY_BLOCK_OBJECTS: readonly number[] = [Tag.SymmetricKey, Tag.SecretData, Tag.PrivateKey, Tag.PublicKey, Tag.SplitKey];

/**
 * Get with a Key Wrapping Specification (KMIP 1.4 §4.11, §2.1.5–2.1.6): the Get handler runs
 * without it, then the Key Value of the returned Key Block is replaced by its wrapping under the
 * named key (Wrapping Method Encrypt, AES key wrap RFC 3394 / 5649), with Key Wrapping Data saying
 * how. Encoding Option No Encoding wraps the Key Material bytes; TTLV Encoding (the default) the
 * TTLV-encoded Key Value structure (`wrappedGetHandler` is the Get that may return the material of a
 * Sensitive or non-Extractable key, KMIP 1.4 §3.45/§3.47, as it leaves wrapped). The clear response and its key bytes are zeroed as for any Get.
 */
export function withKeyWrapping(getHandler: OperationHandler, wrappedGetHandler: OperationHandler = getHandler): OperationHandler {
  return async (ctx, payload) => {
    const specItem = payload?.type === 'Structure' ? payload.value.find((i) => i.tag === Tag.KeyWrappingSpecification) : undefined;
    if (specItem === undefined || payload?.type !== 'Structure') return getHandler(ctx, payload);
    const spec = decodeKeyWrappingSpecification(specItem);
    checkWrappingMethod(spec.wrappingMethod, spec.macSignatureKeyInformation);
    if (spec.attributeNames.length > 0) throw new KmipError('KMIP_FEATURE_NOT_SUPPORTED', 'wrapping attributes with the key (Attribute Name in the Key Wrapping Specification) is not supported');
    if (spec.encodingOption !== undefined && spec.encodingOption !== EncodingOption.NoEncoding && spec.encodingOption !== EncodingOption.TTLVEncoding) {
      throw new KmipError('KMIP_INVALID_FIELD', `Encoding Option ${spec.encodingOption} is not defined`);
    }
    const inner = await wrappedGetHandler(ctx, { ...payload, value: payload.value.filter((i) => i !== specItem) });
    try {
      return { ...inner, payload: await wrapResponse(ctx, inner, spec) };
    } catch (err) {
      for (const s of inner.secrets ?? []) s.fill(0);
      throw err;
    }
  };
}

async function wrapResponse(ctx: OpContext, inner: OpResult, spec: KeyWrappingSpecification): Promise<TtlvItem> {
  const payload = inner.payload;
  if (payload.type !== 'Structure') throw new KmipError('KMIP_GENERAL_FAILURE', 'Get answered no payload');
  const object = payload.value.find((i) => KEY_BLOCK_OBJECTS.includes(i.tag));
  if (object === undefined || object.type !== 'Structure') {
    throw new KmipError('KMIP_ILLEGAL_OPERATION', 'this object has no Key Block: only keys, secret data and split keys can be returned wrapped');
  }
  const block = object.value.find((i) => i.tag === Tag.KeyBlock);
  const keyValue = block?.type === 'Structure' ? block.value.find((i) => i.tag === Tag.KeyValue) : undefined;
  if (block?.type !== 'Structure' || keyValue?.type !== 'Structure') throw new KmipError('KMIP_GENERAL_FAILURE', 'Get answered a Key Block without a Key Value');
  const key = await loadWrappingKey(ctx, spec.encryptionKeyInformation, 'wrap');
  if (key.id === payloadUid(payload)) {
    key.material.fill(0);
    throw new KmipError('KMIP_ILLEGAL_OPERATION', 'a key cannot wrap itself');
  }
  const plaintext = spec.encodingOption === EncodingOption.NoEncoding ? rawKeyMaterial(keyValue) : encodeTtlv(keyValue);
  try {
    const { wrapped, parameters } = wrapKeyValue(key, spec.encryptionKeyInformation?.cryptographicParameters, plaintext);
    const wrappingData = encodeKeyWrappingData({
      wrappingMethod: spec.wrappingMethod,
      encryptionKeyInformation: { uniqueIdentifier: key.id, cryptographicParameters: parameters },
      ...(spec.encodingOption === undefined ? {} : { encodingOption: spec.encodingOption }),
    });
    const newBlock = ttlv.struct(Tag.KeyBlock, [
      ...block.value.filter((i) => i.tag !== Tag.KeyWrappingData).map((i) => (i === keyValue ? ttlv.bytes(Tag.KeyValue, wrapped) : i)),
      wrappingData,
    ]);
    const newObject = ttlv.struct(object.tag, object.value.map((i) => (i === block ? newBlock : i)));
    return ttlv.struct(payload.tag, payload.value.map((i) => (i === object ? newObject : i)));
  } finally {
    if (spec.encodingOption !== EncodingOption.NoEncoding) plaintext.fill(0);
    key.material.fill(0);
  }
}

/** The Key Material byte string of a Key Value (No Encoding wraps only it, KMIP 1.4 §2.1.5). A view: not zeroed here. */
function rawKeyMaterial(keyValue: TtlvItem & { type: 'Structure' }): Buffer {
  if (keyValue.value.some((i) => i.tag === Tag.Attribute)) throw new KmipError('KMIP_INVALID_FIELD', 'No Encoding cannot wrap a Key Value with attributes');
  const m = keyValue.value.find((i) => i.tag === Tag.KeyMaterial);
  if (m?.type !== 'ByteString') throw new KmipError('KMIP_INVALID_FIELD', 'No Encoding wraps a byte-string Key Material; this key format has a structure (ask for TTLV Encoding)');
  return m.value;
}

function payloadUid(payload: TtlvItem & { type: 'Structure' }): string | undefined {
  const u = payload.value.find((i) => i.tag === Tag.UniqueIdentifier);
  return u?.type === 'TextString' ? u.value : undefined;
}
