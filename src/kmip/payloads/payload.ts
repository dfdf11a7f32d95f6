import { Tag } from '../tags.js';
import { Fields, ttlv, type TtlvItem } from '../ttlv/index.js';

/** Fields of a Request/Response Payload; an absent payload reads as an empty one. */
export function payloadFields(item: TtlvItem | undefined): Fields {
  return new Fields(item ?? { tag: Tag.RequestPayload, type: 'Structure', value: [] });
}

type Child = Parameters<typeof ttlv.struct>[1][number];

export const requestPayload = (children: readonly Child[]): TtlvItem => ttlv.struct(Tag.RequestPayload, children);
export const responsePayload = (children: readonly Child[]): TtlvItem => ttlv.struct(Tag.ResponsePayload, children);

/** Optional Unique Identifier field; absent = the batch's ID Placeholder (KMIP 1.4 §4 intro). */
export function optionalUid(uid: string | undefined): TtlvItem | undefined {
  return ttlv.opt(uid, (v) => ttlv.text(Tag.UniqueIdentifier, v));
}
