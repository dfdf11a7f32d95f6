import { describe, expect, it } from 'vitest';
import { KmipClient, KmipClientError, createKeyCall, getKeyCall, getAttributesCall, locateCall } from '../../../src/kmip/client/index.js';
import type { KmipTransport } from '../../../src/kmip/client/index.js';
import { ResponseFramer } from '../../../src/kmip/client/response-framer.js';
import { decodeRequestMessage } from '../../../src/kmip/message/request.js';
import { encodeResponseMessage } from '../../../src/kmip/message/response.js';
import { decodeTtlv, encodeTtlv } from '../../../src/kmip/ttlv/index.js';
import { KeyFormatType, ObjectType, ResultStatus } from '../../../src/kmip/enums.js';
import { Operation } from '../../../src/kmip/operation-codes.js';
import { encodeCreateResponse } from '../../../src/kmip/payloads/create.js';
import { encodeGetResponse } from '../../../src/kmip/payloads/get.js';
import { encodeGetAttributesResponse } from '../../../src/kmip/payloads/get-attributes.js';
import { encodeLocateResponse } from '../../../src/kmip/payloads/locate.js';
import { attr } from '../../../src/kmip/attributes.js';

/** Deterministic PRNG (xorshift32) so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

describe('client against mutated responses (bounded fuzz)', () => {
  it('every mutated answer is a value or a KmipClientError, never a crash', async () => {
    const rand = rng(0xc0ffee);
    let mutate: (b: Buffer) => Buffer = (b) => b;
    const transport: KmipTransport = {
      server: 'fuzz:5696',
      async roundTrip(bytes) {
        const req = decodeRequestMessage(decodeTtlv(bytes));
        const items = req.batchItems.map((b) => {
          const base = { operation: b.operation, uniqueBatchItemId: b.uniqueBatchItemId as Buffer, resultStatus: ResultStatus.Success };
          switch (b.operation) {
            case Operation.Create:
              return { ...base, payload: encodeCreateResponse({ objectType: ObjectType.SymmetricKey, uniqueIdentifier: 'u-1' }) };
            case Operation.Get:
              return {
                ...base,
                payload: encodeGetResponse({
                  objectType: ObjectType.SymmetricKey,
                  uniqueIdentifier: 'u-1',
                  symmetricKey: { formatType: KeyFormatType.Raw, material: Buffer.alloc(32, 7), algorithm: 3, length: 256 },
                }),
              };
            case Operation.GetAttributes:
              return { ...base, payload: encodeGetAttributesResponse({ uniqueIdentifier: 'u-1', attributes: [attr.name('n'), attr.enumeration('State', 2)] }) };
            default:
              return { ...base, payload: encodeLocateResponse({ uniqueIdentifiers: ['u-1', 'u-2'] }) };
          }
        });
        const whole = encodeTtlv(
          encodeResponseMessage({
            header: { protocolVersion: req.header.protocolVersion, timeStamp: 0n, batchCount: items.length },
            batchItems: items,
          }),
        );
        // Through the framer, as on a socket: a mutated length may be refused there.
        const framed = new ResponseFramer(1024 * 1024, 'fuzz:5696').push(mutate(whole));
        if (framed.length !== 1) throw new KmipClientError('KMIP_CLIENT_CONNECTION_LOST', 'truncated by mutation');
        return framed[0] as Buffer;
      },
      peerCertificate: () => undefined,
      close: async () => undefined,
    };
    const client = new KmipClient(transport);
    const calls = [createKeyCall(), getKeyCall('u-1'), getAttributesCall('u-1'), locateCall({ name: 'n' })] as const;
    let ok = 0;
    let refused = 0;
    for (let i = 0; i < 1500; i++) {
      mutate = (b) => {
        const m = Buffer.from(b);
        const n = 1 + Math.floor(rand() * 4);
        for (let j = 0; j < n; j++) m[Math.floor(rand() * m.length)] = Math.floor(rand() * 256);
        return m;
      };
      try {
        await client.batch(calls);
        ok += 1;
      } catch (err) {
        if (!(err instanceof KmipClientError)) throw new Error(`iteration ${i}: ${String(err)}`, { cause: err });
        refused += 1;
      }
    }
    expect(ok + refused).toBe(1500);
    expect(refused).toBeGreaterThan(0);
  });
});
