import { KmipError } from '../errors.js';
import { Tag } from '../tags.js';
import { Fields, ttlv, type TtlvItem } from '../ttlv/index.js';
import { decodeProtocolVersion, encodeProtocolVersion, type ProtocolVersion } from './protocol-version.js';

/** Response Header (KMIP 1.4 §7.2). */
export interface ResponseHeader {
  readonly protocolVersion: ProtocolVersion;
  readonly timeStamp: bigint;
  readonly batchCount: number;
}

/** One Batch Item of a response (§7.2): result, and the still-undecoded Response Payload. */
export interface ResponseBatchItem {
  readonly operation?: number;
  readonly uniqueBatchItemId?: Buffer;
  readonly resultStatus: number;
  readonly resultReason?: number;
  readonly resultMessage?: string;
  readonly asynchronousCorrelationValue?: Buffer;
  readonly payload?: TtlvItem;
}

export interface ResponseMessage {
  readonly header: ResponseHeader;
  readonly batchItems: readonly ResponseBatchItem[];
}

export function encodeResponseMessage(m: ResponseMessage): TtlvItem {
  return ttlv.struct(Tag.ResponseMessage, [
    ttlv.struct(Tag.ResponseHeader, [
      encodeProtocolVersion(m.header.protocolVersion),
      ttlv.date(Tag.TimeStamp, m.header.timeStamp),
      ttlv.int(Tag.BatchCount, m.header.batchCount),
    ]),
    m.batchItems.map((b) =>
      ttlv.struct(Tag.BatchItem, [
        ttlv.opt(b.operation, (v) => ttlv.enumeration(Tag.Operation, v)),
        ttlv.opt(b.uniqueBatchItemId, (v) => ttlv.bytes(Tag.UniqueBatchItemID, v)),
        ttlv.enumeration(Tag.ResultStatus, b.resultStatus),
        ttlv.opt(b.resultReason, (v) => ttlv.enumeration(Tag.ResultReason, v)),
        ttlv.opt(b.resultMessage, (v) => ttlv.text(Tag.ResultMessage, v)),
        ttlv.opt(b.asynchronousCorrelationValue, (v) => ttlv.bytes(Tag.AsynchronousCorrelationValue, v)),
        b.payload === undefined ? undefined : { ...b.payload, tag: Tag.ResponsePayload },
      ]),
    ),
  ]);
}

export function decodeResponseMessage(item: TtlvItem): ResponseMessage {
  const f = new Fields(item, Tag.ResponseMessage);
  const h = f.requiredStruct(Tag.ResponseHeader);
  const pv = h.item(Tag.ProtocolVersion);
  if (pv === undefined) throw new KmipError('KMIP_MISSING_FIELD', 'response header lacks Protocol Version');
  const header: ResponseHeader = {
    protocolVersion: decodeProtocolVersion(pv),
    timeStamp: h.required(Tag.TimeStamp, 'DateTime'),
    batchCount: h.required(Tag.BatchCount, 'Integer'),
  };
  const batchItems = f.structs(Tag.BatchItem).map((b): ResponseBatchItem => {
    const operation = b.optional(Tag.Operation, 'Enumeration');
    const id = b.optional(Tag.UniqueBatchItemID, 'ByteString');
    const reason = b.optional(Tag.ResultReason, 'Enumeration');
    const message = b.optional(Tag.ResultMessage, 'TextString');
    const acv = b.optional(Tag.AsynchronousCorrelationValue, 'ByteString');
    const payload = b.item(Tag.ResponsePayload);
    return {
      resultStatus: b.required(Tag.ResultStatus, 'Enumeration'),
      ...(operation === undefined ? {} : { operation }),
      ...(id === undefined ? {} : { uniqueBatchItemId: id }),
      ...(reason === undefined ? {} : { resultReason: reason }),
      ...(message === undefined ? {} : { resultMessage: message }),
      ...(acv === undefined ? {} : { asynchronousCorrelationValue: acv }),
      ...(payload === undefined ? {} : { payload }),
    };
  });
  if (batchItems.length !== header.batchCount) {
    throw new KmipError('KMIP_INVALID_MESSAGE', `Batch Count ${header.batchCount} but ${batchItems.length} batch items`);
  }
  return { header, batchItems };
}
