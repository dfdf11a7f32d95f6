import { EncodingOption } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import { decodeKeyWrappingData } from '../../kmip/payloads/key-wrapping.js';
import { Tag } from '../../kmip/tags.js';
import { decodeTtlv, ttlv, wipeTtlv, type TtlvItem } from '../../kmip/ttlv/index.js';
import type { OpContext, OperationHandler } from '../context.js';
import { KEY_BLOCK_OBJECTS } from './wrap-on-get.js';
import { checkWrappingMethod, loadWrappingKey, unwrapKeyValue } from './wrapping-key.js';

/** Bounds for decoding an unwrapped, TTLV-encoded Key Value (a key is far smaller). */
const KEY_VALUE_LIMITS = { maxMessageSize: 64 * 1024, maxDepth: 6, maxItems: 256 } as const;

/**
 * Register of a wrapped Key Block (KMIP 1.4 §4.3, §2.1.5): the Key Value is unwrapped with the
 * key the Key Wrapping Data names (Unwrap Key usage bit; Active, Deactivated or Compromised) and
 * the Register handler runs on the clear Key Block, as if the client had sent it unwrapped. The
 * clear tree is wiped once the handler returns (the handler zeroes what it decoded too).
 */
export function withKeyUnwrapping(registerHandler: OperationHandler): OperationHandler {
  return async (ctx, payload) => {
    const clear = await unwrapKeyBlock(ctx, payload);
    if (clear === payload) return registerHandler(ctx, payload);
    try {
      return await registerHandler(ctx, clear);
    } finally {
      if (clear !== undefined) wipeTtlv(clear);
    }
  };
}

type Struct = TtlvItem & { type: 'Structure' };

const structChild = (s: Struct, tag: number): Struct | undefined => {
  const c = s.value.find((i) => i.tag === tag);
  return c?.type === 'Structure' ? c : undefined;
};

/** The payload with its Key Block unwrapped, or the same payload when nothing is wrapped. */
export async function unwrapKeyBlock(ctx: OpContext, payload: TtlvItem | undefined): Promise<TtlvItem | undefined> {
  if (payload?.type !== 'Structure') return payload;
  const object = payload.value.find((i): i is Struct => KEY_BLOCK_OBJECTS.includes(i.tag) && i.type === 'Structure');
  const block = object === undefined ? undefined : structChild(object, Tag.KeyBlock);
  const wrappingItem = block?.value.find((i) => i.tag === Tag.KeyWrappingData);
  if (object === undefined || block === undefined || wrappingItem === undefined) return payload;
  const wrapping = decodeKeyWrappingData(wrappingItem);
  checkWrappingMethod(wrapping.wrappingMethod, wrapping.macSignatureKeyInformation);
  const keyValue = block.value.find((i) => i.tag === Tag.KeyValue);
  const wrapped = wrappedBytes(keyValue);
  const key = await loadWrappingKey(ctx, wrapping.encryptionKeyInformation, 'unwrap');
  let clear: Buffer;
  try {
    clear = unwrapKeyValue(key, wrapping.encryptionKeyInformation?.cryptographicParameters, wrapped);
  } finally {
    key.material.fill(0);
  }
  let clearValue: TtlvItem;
  try {
    if (wrapping.encodingOption === EncodingOption.NoEncoding) {
      clearValue = ttlv.struct(Tag.KeyValue, [ttlv.bytes(Tag.KeyMaterial, Buffer.from(clear))]);
    } else {
      clearValue = decodeKeyValue(clear);
    }
  } finally {
    clear.fill(0);
  }
  const newBlock = ttlv.struct(Tag.KeyBlock, block.value.filter((i) => i !== wrappingItem).map((i) => (i === keyValue ? clearValue : i)));
  const newObject = ttlv.struct(object.tag, object.value.map((i) => (i === block ? newBlock : i)));
  return ttlv.struct(payload.tag, payload.value.map((i) => (i === object ? newObject : i)));
}

/**
 * The wrapped bytes of a Key Value: a Byte String (KMIP 1.4 §2.1.3, as the OASIS test cases send
 * it), or — what PyKMIP's client sends — a Key Value structure whose Key Material holds them.
 */
function wrappedBytes(keyValue: TtlvItem | undefined): Buffer {
  if (keyValue?.type === 'ByteString') return keyValue.value;
  const material = keyValue?.type === 'Structure' && keyValue.value.length === 1 ? keyValue.value[0] : undefined;
  if (material?.tag === Tag.KeyMaterial && material.type === 'ByteString') return material.value;
  throw new KmipError('KMIP_INVALID_FIELD', 'a wrapped Key Block carries its Key Value as a Byte String');
}

function decodeKeyValue(clear: Buffer): TtlvItem {
  let item: TtlvItem;
  try {
    item = decodeTtlv(clear, KEY_VALUE_LIMITS);
  } catch (err) {
    // A TTLV-encoded wrap whose content is not TTLV: the client meant No Encoding, or sent garbage.
    throw new KmipError('KMIP_INVALID_FIELD', 'the unwrapped Key Value is not a TTLV Key Value structure (Encoding Option No Encoding?)', { cause: err });
  }
  if (item.tag !== Tag.KeyValue || item.type !== 'Structure') {
    wipeTtlv(item);
    throw new KmipError('KMIP_INVALID_FIELD', 'the unwrapped bytes are not a Key Value structure');
  }
  return item;
}
