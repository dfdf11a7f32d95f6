import { BatchErrorContinuationOption, ResultReason, ResultStatus } from '../kmip/enums.js';
import { KmipError } from '../kmip/errors.js';
import { isSupportedVersion, type ProtocolVersion } from '../kmip/message/protocol-version.js';
import { decodeRequestHeader, decodeRequestMessage, type RequestBatchItem } from '../kmip/message/request.js';
import { encodeResponseMessage, type ResponseBatchItem } from '../kmip/message/response.js';
import { operationName } from '../kmip/operation-codes.js';
import type { KmipMessageHandler } from '../kmip/server/types.js';
import { Tag } from '../kmip/tags.js';
import { decodeTtlv, encodeTtlv, wipeTtlv, type DecodeLimits, type TtlvItem } from '../kmip/ttlv/index.js';
import type { KmsDeps, OpContext } from './context.js';
import { KmsError } from './errors.js';
import { operationHandlers } from './handler-table.js';
import { IndexedKeyStore } from './locate-index/indexed-store.js';

const FALLBACK_VERSION: ProtocolVersion = { major: 1, minor: 0 };
const reasonNames = new Map<number, string>(Object.entries(ResultReason).map(([k, v]) => [v, k]));

/**
 * The key server's message layer: one encoded KMIP request in, one encoded response out, for an
 * authenticated identity. Never throws: a bad message becomes an Invalid Message response, a
 * failed batch item an Operation Failed item with its Result Reason (KMIP 1.4 §7, §9.1.3.2.29).
 * The returned buffer may hold key bytes (Get): the caller zeroes it once written.
 */
export class KeyServer implements KmipMessageHandler {
  readonly #deps: KmsDeps;
  readonly #limits: Partial<DecodeLimits>;

  constructor(deps: KmsDeps, limits: Partial<DecodeLimits> = {}) {
    // Locate is served from an in-memory index kept current on every write (locate-index/).
    this.#deps = deps.store instanceof IndexedKeyStore ? deps : { ...deps, store: new IndexedKeyStore(deps.store) };
    this.#limits = limits;
  }

  get deps(): KmsDeps {
    return this.#deps;
  }

  /** Error response for a message the transport could not frame (too large, not a Structure). */
  rejectMessage(identity: string, error: KmipError, peer?: string): Buffer {
    return this.#failure(identity, FALLBACK_VERSION, error, peer);
  }

  /**
   * The response is released only once the audit entries of this message are durable: if the
   * audit log cannot be written, the client gets General Failure instead (no key leaves unaudited).
   * So are the store writes the operations left running (OpResult.durable): their fsync and the
   * audit log's run together; if one fails, the client gets General Failure (audited too).
   */
  async handleMessage(identity: string, request: Buffer, peer?: string): Promise<Buffer> {
    const writes: Promise<void>[] = [];
    let out = await this.#handle(identity, request, peer, writes);
    const audited = this.#deps.audit.flush();
    audited.catch(() => {}); // awaited below, after the writes
    const failed = await firstFailure(writes);
    if (failed !== undefined) {
      out.fill(0);
      out = this.#failure(identity, FALLBACK_VERSION, failed, peer);
    }
    try {
      await audited;
      if (failed !== undefined) await this.#deps.audit.flush();
      return out;
    } catch (err) {
      out.fill(0);
      process.stderr.write(`kms: audit log: ${err instanceof Error ? err.message : String(err)}\n`);
      const item = failureItem(undefined, undefined, new KmipError('KMIP_GENERAL_FAILURE', 'audit log unavailable'));
      return encodeTtlv(encodeResponseMessage({ header: this.#header(FALLBACK_VERSION, 1), batchItems: [item] }));
    }
  }

  async #handle(identity: string, request: Buffer, peer: string | undefined, writes: Promise<void>[]): Promise<Buffer> {
    let root: TtlvItem;
    try {
      root = decodeTtlv(request, this.#limits);
    } catch (err) {
      return this.#failure(identity, FALLBACK_VERSION, err, peer);
    }
    try {
      return await this.#handleDecoded(identity, root, peer, writes);
    } finally {
      wipeTtlv(root); // a Register's key bytes, also when its item failed or never ran
    }
  }

  async #handleDecoded(identity: string, root: TtlvItem, peer: string | undefined, writes: Promise<void>[]): Promise<Buffer> {
    let version = FALLBACK_VERSION;
    try {
      if (root.tag !== Tag.RequestMessage || root.type !== 'Structure') {
        throw new KmipError('KMIP_INVALID_MESSAGE', 'not a Request Message');
      }
      const headerItem = root.value.find((i) => i.tag === Tag.RequestHeader);
      if (headerItem !== undefined) version = decodeRequestHeader(headerItem).protocolVersion;
    } catch (err) {
      return this.#failure(identity, version, err, peer);
    }
    if (!isSupportedVersion(version)) {
      // Answer in the newest version we speak, so the client can read the refusal.
      return this.#failure(
        identity,
        { major: 1, minor: 4 },
        new KmipError('KMIP_UNSUPPORTED_VERSION', `protocol version ${version.major}.${version.minor} is not supported (1.0–1.4)`),
        peer,
      );
    }
    let message;
    try {
      message = decodeRequestMessage(root);
    } catch (err) {
      return this.#failure(identity, version, err, peer);
    }
    const stopOnError = message.header.batchErrorContinuationOption !== BatchErrorContinuationOption.Continue;
    const batch: OpContext['batch'] = {};
    const items: ResponseBatchItem[] = [];
    const secrets: Buffer[] = [];
    try {
      for (const item of message.batchItems) {
        // A later item sees what the earlier ones wrote (a Get Attributes after a Get: Fresh false);
        // after a write that failed nothing more runs (the whole message answers General Failure).
        if (writes.length > 0 && (await firstFailure(writes)) !== undefined) break;
        const r = await this.#runItem({ deps: this.#deps, identity, version, batch }, item, secrets, writes, peer);
        items.push(r);
        if (r.resultStatus !== ResultStatus.Success && stopOnError) break;
      }
      let out = encodeTtlv(
        encodeResponseMessage({ header: this.#header(version, items.length), batchItems: items }),
      );
      const max = message.header.maximumResponseSize;
      if (max !== undefined && out.length > max) {
        out.fill(0);
        const tooLarge = items.map((i) => failureItem(i.operation, i.uniqueBatchItemId, new KmipError('KMIP_RESPONSE_TOO_LARGE', `response exceeds Maximum Response Size ${max}`)));
        out = encodeTtlv(encodeResponseMessage({ header: this.#header(version, tooLarge.length), batchItems: tooLarge }));
      }
      return out;
    } finally {
      for (const s of secrets) s.fill(0);
    }
  }

  async #runItem(ctx: OpContext, item: RequestBatchItem, secrets: Buffer[], writes: Promise<void>[], peer: string | undefined): Promise<ResponseBatchItem> {
    const opName = operationName(item.operation);
    const handler = operationHandlers.get(item.operation);
    try {
      this.#deps.gate?.();
      if (handler === undefined) throw new KmipError('KMIP_OPERATION_NOT_SUPPORTED', `operation ${opName} is not supported`);
      const result = await handler(ctx, item.payload);
      if (result.secrets !== undefined) secrets.push(...result.secrets);
      if (result.durable !== undefined) writes.push(result.durable);
      this.#deps.audit.record({
        time: this.#deps.now().toISOString(),
        identity: ctx.identity,
        operation: opName,
        ...(result.objectId === undefined ? {} : { objectId: result.objectId }),
        result: 'success',
        ...(peer === undefined ? {} : { peer }),
      });
      return {
        operation: item.operation,
        ...(item.uniqueBatchItemId === undefined ? {} : { uniqueBatchItemId: item.uniqueBatchItemId }),
        resultStatus: ResultStatus.Success,
        payload: result.payload,
      };
    } catch (err) {
      const failed = failureItem(item.operation, item.uniqueBatchItemId, err);
      this.#deps.audit.record({
        time: this.#deps.now().toISOString(),
        identity: ctx.identity,
        operation: opName,
        ...(ctx.batch.idPlaceholder === undefined && uidOf(item) === undefined ? {} : { objectId: uidOf(item) ?? ctx.batch.idPlaceholder }),
        result: 'failure',
        reason: reasonNames.get(failed.resultReason ?? 0) ?? String(failed.resultReason),
        ...(failed.resultMessage === undefined ? {} : { message: clip(failed.resultMessage) }),
        ...(peer === undefined ? {} : { peer }),
      });
      return failed;
    }
  }

  #failure(identity: string, version: ProtocolVersion, err: unknown, peer: string | undefined): Buffer {
    const item = failureItem(undefined, undefined, err);
    this.#deps.audit.record({
      time: this.#deps.now().toISOString(),
      identity,
      operation: 'message',
      result: 'failure',
      reason: reasonNames.get(item.resultReason ?? 0) ?? String(item.resultReason),
      ...(item.resultMessage === undefined ? {} : { message: clip(item.resultMessage) }),
      ...(peer === undefined ? {} : { peer }),
    });
    return encodeTtlv(encodeResponseMessage({ header: this.#header(version, 1), batchItems: [item] }));
  }

  #header(version: ProtocolVersion, batchCount: number) {
    return { protocolVersion: version, timeStamp: BigInt(Math.floor(this.#deps.now().getTime() / 1000)), batchCount };
  }
}

/** Waits for every write; the first failure, or undefined. */
async function firstFailure(writes: readonly Promise<void>[]): Promise<unknown> {
  let failed: unknown;
  for (const w of writes) {
    try {
      await w;
    } catch (err) {
      failed ??= err ?? new Error('write failed');
    }
  }
  return failed;
}

const MAX_AUDIT_MESSAGE = 512;

/** Result messages can quote client text (an unknown attribute name of ~1 MiB): the audit line keeps its start. */
function clip(message: string): string {
  return message.length <= MAX_AUDIT_MESSAGE ? message : `${message.slice(0, MAX_AUDIT_MESSAGE)}… (${message.length} characters)`;
}

/** The Unique Identifier a request payload names, if any (for the audit log). */
function uidOf(item: RequestBatchItem): string | undefined {
  const p = item.payload;
  if (p?.type !== 'Structure') return undefined;
  const u = p.value.find((i) => i.tag === Tag.UniqueIdentifier);
  return u?.type === 'TextString' ? u.value.slice(0, 256) : undefined;
}

/** Maps any error to an Operation Failed batch item; internal errors do not leak details. */
export function failureItem(operation: number | undefined, id: Buffer | undefined, err: unknown): ResponseBatchItem {
  let reason: number = ResultReason.GeneralFailure;
  let message = 'internal error';
  if (err instanceof KmipError) {
    reason = err.resultReason;
    message = err.message;
  } else if (err instanceof KmsError) {
    // SEALED is for the client to read and act on; other store failures stay terse.
    message = err.code === 'SEALED' ? err.message : `key store: ${err.code}`;
  } else {
    process.stderr.write(`kms: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  return {
    ...(operation === undefined ? {} : { operation }),
    ...(id === undefined ? {} : { uniqueBatchItemId: id }),
    resultStatus: ResultStatus.OperationFailed,
    resultReason: reason,
    resultMessage: message,
  };
}
