import { Tag } from '../tags.js';
import { Fields, ttlv, type TtlvItem } from '../ttlv/index.js';
import { payloadFields, requestPayload, responsePayload } from './payload.js';

/** Query (KMIP 1.4 §4.25). */
export interface QueryRequest {
  readonly queryFunctions: readonly number[];
}

export interface QueryResponse {
  readonly operations: readonly number[];
  readonly objectTypes: readonly number[];
  readonly vendorIdentification?: string;
  /** Free-form server information; vmcrypt puts a Vendor Identification-like text in it. */
  readonly serverInformation?: readonly TtlvItem[];
}

export function encodeQueryRequest(r: QueryRequest): TtlvItem {
  return requestPayload(r.queryFunctions.map((q) => ttlv.enumeration(Tag.QueryFunction, q)));
}

export function decodeQueryRequest(item: TtlvItem | undefined): QueryRequest {
  return { queryFunctions: payloadFields(item).all(Tag.QueryFunction, 'Enumeration') };
}

export function encodeQueryResponse(r: QueryResponse): TtlvItem {
  return responsePayload([
    r.operations.map((o) => ttlv.enumeration(Tag.Operation, o)),
    r.objectTypes.map((o) => ttlv.enumeration(Tag.ObjectType, o)),
    ttlv.opt(r.vendorIdentification, (v) => ttlv.text(Tag.VendorIdentification, v)),
    r.serverInformation === undefined ? undefined : ttlv.struct(Tag.ServerInformation, r.serverInformation),
  ]);
}

export function decodeQueryResponse(item: TtlvItem | undefined): QueryResponse {
  const f = payloadFields(item);
  const vendor = f.optional(Tag.VendorIdentification, 'TextString');
  const info = f.item(Tag.ServerInformation);
  return {
    operations: f.all(Tag.Operation, 'Enumeration'),
    objectTypes: f.all(Tag.ObjectType, 'Enumeration'),
    ...(vendor === undefined ? {} : { vendorIdentification: vendor }),
    ...(info === undefined ? {} : { serverInformation: new Fields(info).items }),
  };
}
