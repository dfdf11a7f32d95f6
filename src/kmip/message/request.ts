import { KmipError } from '../errors.js';
import { Tag } from '../tags.js';
import { Fields, ttlv, type TtlvItem } from '../ttlv/index.js';
import { decodeProtocolVersion, encodeProtocolVersion, type ProtocolVersion } from './protocol-version.js';

/** Request Header (KMIP 1.4 §7.2). Authentication is kept as its raw item (vmcrypt authenticates by TLS). */
export interface RequestHeader {
  readonly protocolVersion: ProtocolVersion;
  readonly maximumResponseSize?: number;
  readonly asynchronousIndicator?: boolean;
  readonly authentication?: TtlvItem;
  readonly batchErrorContinuationOption?: number;
  readonly batchOrderOption?: boolean;
  readonly timeStamp?: bigint;
  readonly batchCount: number;
}

/** One Batch Item of a request: the operation and its still-undecoded Request Payload. */
export interface RequestBatchItem {
  readonly operation: number;
  readonly uniqueBatchItemId?: Buffer;
  readonly payload?: TtlvItem;
}

export interface RequestMessage {
  readonly header: RequestHeader;
  readonly batchItems: readonly RequestBatchItem[];
}

export function encodeRequestMessage(m: RequestMessage): TtlvItem {
  const h = m.header;
  return ttlv.struct(Tag.RequestMessage, [
    ttlv.struct(Tag.RequestHeader, [
      encodeProtocolVersion(h.protocolVersion),
      ttlv.opt(h.maximumResponseSize, (v) => ttlv.int(Tag.MaximumResponseSize, v)),
      ttlv.opt(h.asynchronousIndicator, (v) => ttlv.bool(Tag.AsynchronousIndicator, v)),
      h.authentication,
      ttlv.opt(h.batchErrorContinuationOption, (v) => ttlv.enumeration(Tag.BatchErrorContinuationOption, v)),
      ttlv.opt(h.batchOrderOption, (v) => ttlv.bool(Tag.BatchOrderOption, v)),
      ttlv.opt(h.timeStamp, (v) => ttlv.date(Tag.TimeStamp, v)),
      ttlv.int(Tag.BatchCount, h.batchCount),
    ]),
    m.batchItems.map((b) =>
      ttlv.struct(Tag.BatchItem, [
        ttlv.enumeration(Tag.Operation, b.operation),
        ttlv.opt(b.uniqueBatchItemId, (v) => ttlv.bytes(Tag.UniqueBatchItemID, v)),
        b.payload === undefined ? undefined : { ...b.payload, tag: Tag.RequestPayload },
      ]),
    ),
  ]);
}

/** Just the request header: used to answer in the client's protocol version even when the batch is bad. */
export function decodeRequestHeader(item: TtlvItem): RequestHeader {
  const f = new Fields(item, Tag.RequestHeader);
  const out: { -readonly [K in keyof RequestHeader]: RequestHeader[K] } = {
    protocolVersion: decodeProtocolVersion(f.item(Tag.ProtocolVersion) ?? missing('Protocol Version')),
    batchCount: f.required(Tag.BatchCount, 'Integer'),
  };
  const mrs = f.optional(Tag.MaximumResponseSize, 'Integer');
  if (mrs !== undefined) out.maximumResponseSize = mrs;
  const ai = f.optional(Tag.AsynchronousIndicator, 'Boolean');
  if (ai !== undefined) out.asynchronousIndicator = ai;
  const auth = f.item(Tag.Authentication);
  if (auth !== undefined) out.authentication = auth;
  const beco = f.optional(Tag.BatchErrorContinuationOption, 'Enumeration');
  if (beco !== undefined) out.batchErrorContinuationOption = beco;
  const boo = f.optional(Tag.BatchOrderOption, 'Boolean');
  if (boo !== undefined) out.batchOrderOption = boo;
  const ts = f.optional(Tag.TimeStamp, 'DateTime');
  if (ts !== undefined) out.timeStamp = ts;
  return out;
}

export function decodeRequestMessage(item: TtlvItem): RequestMessage {
  const f = new Fields(item, Tag.RequestMessage);
  const header = decodeRequestHeader(f.item(Tag.RequestHeader) ?? missing('Request Header'));
  const batchItems = f.structs(Tag.BatchItem).map((b): RequestBatchItem => {
    const operation = b.required(Tag.Operation, 'Enumeration');
    const id = b.optional(Tag.UniqueBatchItemID, 'ByteString');
    const payload = b.item(Tag.RequestPayload);
    return {
      operation,
      ...(id === undefined ? {} : { uniqueBatchItemId: id }),
      ...(payload === undefined ? {} : { payload }),
    };
  });
  if (batchItems.length === 0) throw new KmipError('KMIP_INVALID_MESSAGE', 'request has no batch item');
  if (batchItems.length !== header.batchCount) {
    throw new KmipError('KMIP_INVALID_MESSAGE', `Batch Count ${header.batchCount} but ${batchItems.length} batch items`);
  }
  for (const it of f.items) {
    if (it.tag !== Tag.RequestHeader && it.tag !== Tag.BatchItem) {
      throw new KmipError('KMIP_INVALID_MESSAGE', `unexpected item 0x${it.tag.toString(16)} in Request Message`);
    }
  }
  return { header, batchItems };
}

function missing(what: string): never {
  throw new KmipError('KMIP_MISSING_FIELD', `request lacks ${what}`);
}
