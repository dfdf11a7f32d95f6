import { describe, expect, it } from 'vitest';
import { KeyProviderError, type KeyProvider } from '../../../src/keyprovider/index.js';
import { KmipOperationError, type OpCall } from '../../../src/kmip/client/index.js';
import { fetchKeks, FetchFailure } from '../../../src/manager/keys/kek-fetch.js';
import { pushKeysToHost } from '../../../src/manager/keys/host-push.js';
import type { HostGateway } from '../../../src/manager/contracts.js';

/** A stand-in KeyProvider whose one client answers Get batches from a map of keys. */
function fakeProvider(keys: Map<string, Buffer>, log: { sizes: number[]; continueFlags: boolean[] }, down = false): KeyProvider {
  const client = {
    async batch(calls: readonly OpCall<unknown>[], opts?: { continueOnError?: boolean }) {
      log.sizes.push(calls.length);
      log.continueFlags.push(opts?.continueOnError === true);
      return calls.map((c) => {
        // The Get payload carries the uid as its only text: read it back from the encoded call.
        const uid = String((c.payload.value as unknown as Array<{ value: unknown }>)[0]?.value);
        const k = keys.get(uid);
        if (k === undefined) {
          return { ok: false, error: new KmipOperationError({ operation: 'Get', reason: 'ItemNotFound', reasonValue: 1, resultMessage: '' }) };
        }
        return { ok: true, value: { uniqueIdentifier: uid, objectType: 2, formatType: 1, algorithm: 3, length: k.length * 8, material: Buffer.from(k) } };
      });
    },
  };
  return {
    run: async (fn: (c: unknown) => Promise<unknown>) => {
      if (down) throw new KeyProviderError('KEY_PROVIDER_UNREACHABLE', 'key provider "kp": all 1 key servers failed — kms (127.0.0.1:1): unreachable');
      return fn(client);
    },
  } as unknown as KeyProvider;
}

describe('KEK fetch in KMIP batches', () => {
  const keys = new Map(Array.from({ length: 600 }, (_, i) => [`k${i}`, Buffer.alloc(32, i % 251)] as const));

  it('600 ids → 3 batches (256, 256, 88) over the fetch connections, each with Continue', async () => {
    const log = { sizes: [] as number[], continueFlags: [] as boolean[] };
    const ps = [fakeProvider(keys, log), fakeProvider(keys, log)];
    const outcome: string[] = [];
    const r = await fetchKeks('kp', ps, [...keys.keys()], { key: (_p, res) => outcome.push(res) });
    expect(log.sizes.sort((a, b) => a - b)).toEqual([88, 256, 256]);
    expect(log.continueFlags.every(Boolean)).toBe(true);
    expect(r.keys.size).toBe(600);
    expect(r.keys.get('k7')?.equals(Buffer.alloc(32, 7))).toBe(true);
    expect(outcome.filter((o) => o === 'ok')).toHaveLength(600);
    for (const b of r.keys.values()) b.fill(0);
  });

  it('a missing key is keyMissingOnKms and does not stop the others; duplicates fetched once', async () => {
    const log = { sizes: [] as number[], continueFlags: [] as boolean[] };
    const r = await fetchKeks('kp', [fakeProvider(keys, log)], ['k1', 'gone', 'k2', 'k1']);
    expect(log.sizes).toEqual([3]);
    expect([...r.keys.keys()].sort()).toEqual(['k1', 'k2']);
    expect(r.failed.get('gone')?.kind).toBe(FetchFailure.keyMissingOnKms);
    expect(r.unreachable).toBeUndefined();
  });

  it('an unreachable provider: every key kmsClusterError, and the reason is kept', async () => {
    const log = { sizes: [] as number[], continueFlags: [] as boolean[] };
    const r = await fetchKeks('kp', [fakeProvider(keys, log, true)], ['k1', 'k2']);
    expect(r.keys.size).toBe(0);
    expect([...r.failed.values()].every((f) => f.kind === FetchFailure.kmsClusterError)).toBe(true);
    expect(r.unreachable).toMatch(/all 1 key servers failed/);
  });

  it('a key that is not 256 bits is refused and its bytes zeroed', async () => {
    const short = Buffer.alloc(16, 9);
    const log = { sizes: [] as number[], continueFlags: [] as boolean[] };
    const r = await fetchKeks('kp', [fakeProvider(new Map([['s', short]]), log)], ['s']);
    expect(r.failed.get('s')?.kind).toBe(FetchFailure.keyMissingOnKms);
  });
});

describe('host push in chunks', () => {
  it('1000 keys → 4 requests of ≤ 256, base64 of each key, at most `parallel` at once', async () => {
    const bodies: Array<{ keys: Array<{ keyId: string; key: string }> }> = [];
    let running = 0;
    let peak = 0;
    const gw: HostGateway = {
      async call(hostId, method, path, body) {
        expect([hostId, method, path]).toEqual(['h1', 'POST', '/v1/keys']);
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setImmediate(r));
        running--;
        bodies.push(body as (typeof bodies)[number]);
        return {} as never;
      },
    };
    const keys = Array.from({ length: 1000 }, (_, i) => ({ keyId: `k${i}`, material: Buffer.alloc(32, i % 256) }));
    await pushKeysToHost(gw, 'h1', keys, { parallel: 2 });
    expect(bodies.map((b) => b.keys.length).sort((a, b) => a - b)).toEqual([232, 256, 256, 256]);
    expect(peak).toBe(2);
    const k5 = bodies.flatMap((b) => b.keys).find((k) => k.keyId === 'k5');
    expect(Buffer.from(k5?.key ?? '', 'base64').equals(Buffer.alloc(32, 5))).toBe(true);
  });
});

describe('KMIP batch of Gets on the wire', () => {
  it('asks the server to continue after a failed item (Batch Error Continuation Option = Continue)', async () => {
    const { encodeRequest } = await import('../../../src/kmip/client/message.js');
    const { decodeRequestMessage } = await import('../../../src/kmip/message/request.js');
    const { decodeTtlv } = await import('../../../src/kmip/ttlv/index.js');
    const { getKeyCall: get } = await import('../../../src/kmip/client/index.js');
    const calls = [get('a'), get('b')];
    const ids = [Buffer.from('00000001', 'hex'), Buffer.from('00000002', 'hex')];
    const on = decodeRequestMessage(decodeTtlv(encodeRequest(calls, { major: 1, minor: 2 }, ids, { continueOnError: true })));
    expect(on.header.batchErrorContinuationOption).toBe(0x01);
    expect(on.batchItems).toHaveLength(2);
    const off = decodeRequestMessage(decodeTtlv(encodeRequest(calls, { major: 1, minor: 2 }, ids)));
    expect(off.header.batchErrorContinuationOption).toBeUndefined();
  });
});
