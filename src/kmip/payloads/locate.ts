import { decodeAttribute, encodeAttribute, type Attribute } from '../attributes.js';
import { Tag } from '../tags.js';
import { ttlv, type TtlvItem } from '../ttlv/index.js';
import { payloadFields, requestPayload, responsePayload } from './payload.js';

/** Locate (KMIP 1.4 §4.9): objects whose attributes match all given ones. */
export interface LocateRequest {
  readonly maximumItems?: number;
  /** KMIP 1.3+ */
  readonly offsetItems?: number;
  readonly storageStatusMask?: number;
  readonly objectGroupMember?: number;
  readonly attributes: readonly Attribute[];
}

export interface LocateResponse {
  /** KMIP 1.3+: how many matched in total. */
  readonly locatedItems?: number;
  readonly uniqueIdentifiers: readonly string[];
}

export function encodeLocateRequest(r: LocateRequest): TtlvItem {
  return requestPayload([
    ttlv.opt(r.maximumItems, (v) => ttlv.int(Tag.MaximumItems, v)),
    ttlv.opt(r.offsetItems, (v) => ttlv.int(Tag.OffsetItems, v)),
    ttlv.opt(r.storageStatusMask, (v) => ttlv.int(Tag.StorageStatusMask, v)),
    ttlv.opt(r.objectGroupMember, (v) => ttlv.enumeration(Tag.ObjectGroupMember, v)),
    r.attributes.map(encodeAttribute),
  ]);
}

export function decodeLocateRequest(item: TtlvItem | undefined): LocateRequest {
  const f = payloadFields(item);
  const mi = f.optional(Tag.MaximumItems, 'Integer');
  const oi = f.optional(Tag.OffsetItems, 'Integer');
  const ssm = f.optional(Tag.StorageStatusMask, 'Integer');
  const ogm = f.optional(Tag.ObjectGroupMember, 'Enumeration');
  return {
    ...(mi === undefined ? {} : { maximumItems: mi }),
    ...(oi === undefined ? {} : { offsetItems: oi }),
    ...(ssm === undefined ? {} : { storageStatusMask: ssm }),
    ...(ogm === undefined ? {} : { objectGroupMember: ogm }),
    attributes: f.items.filter((i) => i.tag === Tag.Attribute).map(decodeAttribute),
  };
}

export function encodeLocateResponse(r: LocateResponse): TtlvItem {
  return responsePayload([
    ttlv.opt(r.locatedItems, (v) => ttlv.int(Tag.LocatedItems, v)),
    r.uniqueIdentifiers.map((u) => ttlv.text(Tag.UniqueIdentifier, u)),
  ]);
}

export function decodeLocateResponse(item: TtlvItem | undefined): LocateResponse {
  const f = payloadFields(item);
  const li = f.optional(Tag.LocatedItems, 'Integer');
  return {
    ...(li === undefined ? {} : { locatedItems: li }),
    uniqueIdentifiers: f.all(Tag.UniqueIdentifier, 'TextString'),
  };
}
