import { BatchErrorContinuationOption, ResultReason, ResultStatus } from '../enums.js';
import { KmipError } from '../errors.js';
import { encodeRequestMessage } from '../message/request.js';
import { decodeResponseMessage, type ResponseBatchItem } from '../message/response.js';
import type { ProtocolVersion } from '../message/protocol-version.js';
import { decodeTtlv, encodeTtlv } from '../ttlv/index.js';
import type { BatchOutcome, OpCall } from './call.js';
import { KmipClientError, KmipClientErrorCode, KmipOperationError } from './errors.js';

/** Largest batch the client sends in one message. */
export const MAX_BATCH_ITEMS = 256;

/**
 * The bytes of one Request Message (KMIP 1.1 §7.1) carrying `calls` as batch items, each
 * tagged with its Unique Batch Item ID so the answers can be matched whatever their order.
 */
export function encodeRequest(
  calls: readonly OpCall<unknown>[],
  version: ProtocolVersion,
  ids: readonly Buffer[],
  options: { readonly continueOnError?: boolean } = {},
): Buffer {
  return encodeTtlv(
    encodeRequestMessage({
      header: {
        protocolVersion: version,
        batchCount: calls.length,
        // KMIP 1.1 §6.12: items run in the order given (later ones may use the ID Placeholder).
        ...(calls.length > 1 ? { batchOrderOption: true } : {}),
        // KMIP 1.1 §6.13: without Continue a server stops at the first failed item and answers
        // fewer items than asked; independent Gets want every item's own outcome.
        ...(options.continueOnError === true ? { batchErrorContinuationOption: BatchErrorContinuationOption.Continue } : {}),
      },
      batchItems: calls.map((c, i) => ({ operation: c.operation, uniqueBatchItemId: ids[i] as Buffer, payload: c.payload })),
    }),
  );
}

/**
 * Reads a Response Message and pairs each batch item with its call. A server may answer a
 * request it could not parse with one failed item for the whole message: every call then gets
 * that failure. Anything malformed or unmatched is KMIP_CLIENT_BAD_RESPONSE.
 */
export function decodeResponse(
  calls: readonly OpCall<unknown>[],
  ids: readonly Buffer[],
  bytes: Buffer,
  server: string,
): BatchOutcome<unknown>[] {
  const bad = (msg: string, cause?: unknown): KmipClientError =>
    new KmipClientError(KmipClientErrorCode.badResponse, msg, { server, ...(cause === undefined ? {} : { cause }) });
  let items: readonly ResponseBatchItem[];
  try {
    items = decodeResponseMessage(decodeTtlv(bytes, { maxMessageSize: bytes.length })).batchItems;
  } catch (err) {
    throw bad(`malformed response: ${(err as Error).message}`, err);
  }
  const first = items[0];
  if (items.length === 1 && calls.length > 1 && first !== undefined && first.resultStatus !== ResultStatus.Success) {
    const failure = outcome(calls[0] as OpCall<unknown>, first, server);
    return calls.map((c) => (failure.ok ? failure : { ok: false, error: renamed(failure.error, c.name, server) }));
  }
  if (items.length !== calls.length) throw bad(`${items.length} batch items answered, ${calls.length} sent`);
  const byId = new Map(ids.map((id, i) => [id.toString('hex'), i]));
  const out: (BatchOutcome<unknown> | undefined)[] = new Array(calls.length).fill(undefined);
  items.forEach((item, pos) => {
    const i = item.uniqueBatchItemId === undefined ? pos : byId.get(item.uniqueBatchItemId.toString('hex'));
    if (i === undefined || out[i] !== undefined) throw bad('response batch item ids do not match the request');
    const call = calls[i] as OpCall<unknown>;
    if (item.operation !== undefined && item.operation !== call.operation) {
      throw bad(`batch item ${i}: answered operation ${item.operation}, asked ${call.operation}`);
    }
    out[i] = outcome(call, item, server);
  });
  return out as BatchOutcome<unknown>[];
}

function outcome(call: OpCall<unknown>, item: ResponseBatchItem, server: string): BatchOutcome<unknown> {
  if (item.resultStatus === ResultStatus.Success) {
    try {
      return { ok: true, value: call.decode(item.payload) };
    } catch (err) {
      const msg = err instanceof KmipError || err instanceof Error ? err.message : String(err);
      throw new KmipClientError(KmipClientErrorCode.badResponse, `${call.name} response payload: ${msg}`, { server, cause: err });
    }
  }
  const reasonValue = item.resultReason ?? 0;
  const reason =
    item.resultStatus === ResultStatus.OperationFailed ? reasonName(reasonValue) : statusName(item.resultStatus);
  return {
    ok: false,
    error: new KmipOperationError({
      operation: call.name,
      reason,
      reasonValue,
      resultMessage: item.resultMessage ?? '',
      server,
    }),
  };
}

function renamed(e: KmipOperationError, operation: string, server: string): KmipOperationError {
  return new KmipOperationError({ operation, reason: e.reason, reasonValue: e.reasonValue, resultMessage: e.resultMessage, server });
}

/** Result Reason name as in the KMIP tables ('ItemNotFound'); 'Reason0x…' when unknown. */
export function reasonName(value: number): string {
  for (const [name, v] of Object.entries(ResultReason)) if (v === value) return name;
  return `Reason0x${value.toString(16)}`;
}

function statusName(value: number): string {
  for (const [name, v] of Object.entries(ResultStatus)) if (v === value) return name;
  return `Status0x${value.toString(16)}`;
}
