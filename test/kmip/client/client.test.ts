import { describe, expect, it } from 'vitest';
import { KmipClient, KmipClientError, KmipOperationError, createKeyCall, discoverVersionsCall, queryCall } from '../../../src/kmip/client/index.js';
import type { KmipTransport } from '../../../src/kmip/client/index.js';
import { decodeRequestMessage, type RequestMessage } from '../../../src/kmip/message/request.js';
import { encodeResponseMessage, type ResponseBatchItem } from '../../../src/kmip/message/response.js';
import { decodeTtlv, encodeTtlv } from '../../../src/kmip/ttlv/index.js';
import { ResultReason, ResultStatus, ObjectType } from '../../../src/kmip/enums.js';
import { Operation } from '../../../src/kmip/operation-codes.js';
import { encodeCreateResponse } from '../../../src/kmip/payloads/create.js';
import { encodeDiscoverVersionsResponse } from '../../../src/kmip/payloads/discover-versions.js';
import { attr } from '../../../src/kmip/attributes.js';

/** A transport whose server is a function from the decoded request to response batch items. */
function fakeTransport(answer: (req: RequestMessage) => ResponseBatchItem[]): KmipTransport & { requests: RequestMessage[] } {
  const requests: RequestMessage[] = [];
  return {
    server: 'fake:5696',
    requests,
    async roundTrip(bytes) {
      const req = decodeRequestMessage(decodeTtlv(bytes));
      requests.push(req);
      const items = answer(req);
      return encodeTtlv(
        encodeResponseMessage({
          header: { protocolVersion: req.header.protocolVersion, timeStamp: 0n, batchCount: items.length },
          batchItems: items,
        }),
      );
    },
    peerCertificate: () => undefined,
    close: async () => undefined,
  };
}

const created = (id: string | undefined, uid: string): ResponseBatchItem => ({
  operation: Operation.Create,
  ...(id === undefined ? {} : { uniqueBatchItemId: Buffer.from(id, 'hex') }),
  resultStatus: ResultStatus.Success,
  payload: encodeCreateResponse({ objectType: ObjectType.SymmetricKey, uniqueIdentifier: uid }),
});

describe('KmipClient request/response handling', () => {
  it('sends the configured protocol version and a unique batch item id per item', async () => {
    const t = fakeTransport((req) =>
      req.batchItems.map((b, i) => created(b.uniqueBatchItemId?.toString('hex'), `k${i}`)),
    );
    const c = new KmipClient(t, { protocolVersion: { major: 1, minor: 1 } });
    expect(await c.create()).toBe('k0');
    const [a, b] = await c.batch([createKeyCall(), createKeyCall({ length: 128 })] as const);
    expect(a).toEqual({ ok: true, value: 'k0' });
    expect(b).toEqual({ ok: true, value: 'k1' });
    expect(t.requests[0]?.header.protocolVersion).toEqual({ major: 1, minor: 1 });
    expect(t.requests[1]?.header.batchCount).toBe(2);
    const ids = t.requests.flatMap((r) => r.batchItems.map((b) => b.uniqueBatchItemId?.toString('hex')));
    expect(new Set(ids).size).toBe(3);
  });

  it('matches answers by batch item id even when the server reorders them', async () => {
    const t = fakeTransport((req) =>
      req.batchItems.map((b, i) => created(b.uniqueBatchItemId?.toString('hex'), `k${i}`)).reverse(),
    );
    const [a, b, c] = await new KmipClient(t).batch([createKeyCall(), createKeyCall(), createKeyCall()] as const);
    expect([a, b, c].map((x) => (x.ok ? x.value : 'failed'))).toEqual(['k0', 'k1', 'k2']);
  });

  it('turns Operation Failed into KmipOperationError with the reason name and message', async () => {
    const t = fakeTransport((req) => [
      {
        operation: Operation.Create,
        uniqueBatchItemId: req.batchItems[0]?.uniqueBatchItemId as Buffer,
        resultStatus: ResultStatus.OperationFailed,
        resultReason: ResultReason.PermissionDenied,
        resultMessage: 'not yours',
      },
    ]);
    const err = await new KmipClient(t).create().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KmipOperationError);
    expect((err as KmipOperationError).reason).toBe('PermissionDenied');
    expect((err as KmipOperationError).code).toBe('KMIP_OPERATION_FAILED');
    expect((err as KmipOperationError).message).toBe('fake:5696: Create failed: PermissionDenied (not yours)');
  });

  it('gives every item the failure when the server rejects the whole message', async () => {
    const t = fakeTransport(() => [
      { resultStatus: ResultStatus.OperationFailed, resultReason: ResultReason.InvalidMessage, resultMessage: 'bad' },
    ]);
    const out = await new KmipClient(t).batch([createKeyCall(), queryCall()] as const);
    expect(out.map((o) => (o.ok ? 'ok' : `${o.error.operation}:${o.error.reason}`))).toEqual([
      'Create:InvalidMessage',
      'Query:InvalidMessage',
    ]);
  });

  it('rejects answers that do not match the request', async () => {
    const wrongId = fakeTransport(() => [created('0000000000000000', 'x')]);
    const e1 = await new KmipClient(wrongId).create().catch((e: unknown) => e);
    expect((e1 as KmipClientError).code).toBe('KMIP_CLIENT_BAD_RESPONSE');
    const wrongOp = fakeTransport((req) => [
      {
        operation: Operation.DiscoverVersions,
        uniqueBatchItemId: req.batchItems[0]?.uniqueBatchItemId as Buffer,
        resultStatus: ResultStatus.Success,
        payload: encodeDiscoverVersionsResponse({ versions: [] }),
      },
    ]);
    const e2 = await new KmipClient(wrongOp).create().catch((e: unknown) => e);
    expect((e2 as KmipClientError).code).toBe('KMIP_CLIENT_BAD_RESPONSE');
    const missingPayload = fakeTransport((req) => [
      { operation: Operation.Create, uniqueBatchItemId: req.batchItems[0]?.uniqueBatchItemId as Buffer, resultStatus: ResultStatus.Success },
    ]);
    const e3 = await new KmipClient(missingPayload).create().catch((e: unknown) => e);
    expect((e3 as KmipClientError).code).toBe('KMIP_CLIENT_BAD_RESPONSE');
    const notTtlv: KmipTransport = { ...fakeTransport(() => []), roundTrip: async () => Buffer.from([0x42, 0, 0x7b, 1, 0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]) };
    const e4 = await new KmipClient(notTtlv).discoverVersions().catch((e: unknown) => e);
    expect((e4 as KmipClientError).code).toBe('KMIP_CLIENT_BAD_RESPONSE');
  });

  it('checks arguments before sending', () => {
    expect(() => createKeyCall({ length: 512 as 256 })).toThrow(KmipClientError);
    expect(() => createKeyCall({ attributes: [attr.text('', 'x')] })).toThrow(KmipClientError);
    const c = new KmipClient(fakeTransport(() => []));
    return expect(c.batch([])).rejects.toMatchObject({ code: 'KMIP_CLIENT_INVALID_ARGUMENT' });
  });

  it('offers all of 1.0–1.4 in Discover Versions by default', async () => {
    const t = fakeTransport((req) => [
      {
        operation: Operation.DiscoverVersions,
        uniqueBatchItemId: req.batchItems[0]?.uniqueBatchItemId as Buffer,
        resultStatus: ResultStatus.Success,
        payload: encodeDiscoverVersionsResponse({ versions: [{ major: 1, minor: 4 }] }),
      },
    ]);
    expect(await new KmipClient(t).send(discoverVersionsCall())).toEqual([{ major: 1, minor: 4 }]);
    expect(t.requests[0]?.batchItems[0]?.payload?.type).toBe('Structure');
  });
});
