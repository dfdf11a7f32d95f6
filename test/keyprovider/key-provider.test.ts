import { describe, expect, it } from 'vitest';
import { CREATE_TAG_PREFIX, KeyProvider, KeyProviderError } from '../../src/keyprovider/index.js';
import { nameValueOf } from '../../src/kmip/attributes.js';
import { ObjectType } from '../../src/kmip/enums.js';
import { Operation } from '../../src/kmip/operation-codes.js';
import { decodeCreateRequest, encodeCreateResponse } from '../../src/kmip/payloads/create.js';
import { decodeLocateRequest, encodeLocateResponse } from '../../src/kmip/payloads/locate.js';
import { KmipClient, KmipClientError, KmipClientErrorCode, type KmipTransport } from '../../src/kmip/client/index.js';
import { decodeRequestMessage } from '../../src/kmip/message/request.js';
import { encodeResponseMessage } from '../../src/kmip/message/response.js';
import { decodeTtlv, encodeTtlv } from '../../src/kmip/ttlv/index.js';
import { ResultStatus } from '../../src/kmip/enums.js';
import { encodeDiscoverVersionsResponse } from '../../src/kmip/payloads/discover-versions.js';

const tls = { ca: 'unused', cert: 'unused', key: 'unused' };

/** A transport answering Discover Versions, or failing with `fail` when set. */
function transport(server: string, state: { fail?: KmipClientErrorCode; calls: number; closed: boolean }): KmipTransport {
  return {
    server,
    async roundTrip(bytes) {
      state.calls += 1;
      if (state.fail !== undefined) throw new KmipClientError(state.fail, 'simulated', { server });
      const req = decodeRequestMessage(decodeTtlv(bytes));
      const item = req.batchItems[0];
      return encodeTtlv(
        encodeResponseMessage({
          header: { protocolVersion: req.header.protocolVersion, timeStamp: 0n, batchCount: 1 },
          batchItems: [
            {
              operation: item?.operation as number,
              uniqueBatchItemId: item?.uniqueBatchItemId as Buffer,
              resultStatus: ResultStatus.Success,
              payload: encodeDiscoverVersionsResponse({ versions: [{ major: 1, minor: 2 }] }),
            },
          ],
        }),
      );
    },
    peerCertificate: () => undefined,
    async close() {
      state.closed = true;
    },
  };
}

function provider(states: Record<string, { fail?: KmipClientErrorCode; calls: number; closed: boolean }>) {
  let made = 0;
  const p = new KeyProvider(
    {
      name: 'unit',
      tls,
      servers: Object.keys(states).map((name, i) => ({ name, host: '127.0.0.1', port: 5000 + i })),
    },
    {
      connect: (s) => {
        made += 1;
        return new KmipClient(transport(`${s.host}:${s.port}`, states[s.name] as { calls: number; closed: boolean }));
      },
    },
  );
  return { p, made: () => made };
}

describe('KeyProvider', () => {
  it('keeps one client per server and closes them all', async () => {
    const states = { a: { calls: 0, closed: false }, b: { calls: 0, closed: false } };
    const { p, made } = provider(states);
    for (let i = 0; i < 5; i++) await p.discoverVersions();
    expect(made()).toBe(1);
    expect(states.a.calls).toBe(5);
    await p.health();
    expect(made()).toBe(2);
    await p.close();
    expect(states.a.closed && states.b.closed).toBe(true);
  });

  it('aggregates server health: ok, warning when one is down, error when all are', async () => {
    const states: Record<string, { fail?: KmipClientErrorCode; calls: number; closed: boolean }> = {
      a: { calls: 0, closed: false },
      b: { calls: 0, closed: false },
    };
    const { p } = provider(states);
    expect((await p.health()).status).toBe('ok');
    (states['a'] as { fail?: KmipClientErrorCode }).fail = KmipClientErrorCode.unreachable;
    const h = await p.health();
    expect(h.status).toBe('warning');
    expect(h.servers.map((s) => `${s.name}:${s.status}:${s.error?.code ?? ''}`)).toEqual([
      'a:error:KMIP_CLIENT_UNREACHABLE',
      'b:ok:',
    ]);
    (states['b'] as { fail?: KmipClientErrorCode }).fail = KmipClientErrorCode.timeout;
    expect((await p.health()).status).toBe('error');
    const err = await p.discoverVersions().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyProviderError);
    await p.close();
  });

  it('refuses invalid configurations', () => {
    const bad = (cfg: object): string => {
      try {
        new KeyProvider(cfg as never);
        return 'accepted';
      } catch (e) {
        return e instanceof KeyProviderError ? e.code : 'other';
      }
    };
    expect(bad({ name: 'x', tls, servers: [] })).toBe('KEY_PROVIDER_CONFIG_INVALID');
    expect(bad({ name: 'x', tls, servers: [{ name: 'a', host: 'h', port: 1 }, { name: 'a', host: 'h', port: 2 }] })).toBe(
      'KEY_PROVIDER_CONFIG_INVALID',
    );
    expect(bad({ name: 'x', tls, servers: [{ name: 'a', host: 'h', port: 70000 }] })).toBe('KEY_PROVIDER_CONFIG_INVALID');
    expect(bad({ name: 'x', servers: [{ name: 'a', host: 'h', port: 1 }] })).toBe('KEY_PROVIDER_CONFIG_INVALID');
    expect(bad({ name: 'x', tls, hungTimeoutMs: 0, servers: [{ name: 'a', host: 'h', port: 1 }] })).toBe(
      'KEY_PROVIDER_CONFIG_INVALID',
    );
    expect(bad({ name: 'x', tls, hungTimeoutMs: 1500, servers: [{ name: 'a', host: 'h', port: 1 }] })).toBe('accepted');
  });
});

/**
 * Two servers over one replicated key table (as KMS nodes over etcd). Server `a` applies the
 * first Create it gets and then loses the connection before answering (a node killed between
 * commit and reply); `b` answers everything.
 */
function replicatedPair(failure: KmipClientErrorCode = KmipClientErrorCode.connectionLost, arrived = false) {
  const keys = new Map<string, string[]>(); // uid → names
  let aFailedOnce = false;
  const answer = (bytes: Buffer): Buffer => {
    const req = decodeRequestMessage(decodeTtlv(bytes));
    const item = req.batchItems[0];
    let payload;
    if (item?.operation === Operation.Create) {
      const uid = `key-${keys.size + 1}`;
      const names = decodeCreateRequest(item.payload).templateAttribute.attributes.filter((a) => a.name === 'Name').map(nameValueOf);
      keys.set(uid, names);
      payload = encodeCreateResponse({ objectType: ObjectType.SymmetricKey, uniqueIdentifier: uid });
    } else if (item?.operation === Operation.Locate) {
      const wanted = decodeLocateRequest(item.payload).attributes.map(nameValueOf);
      const uids = [...keys].filter(([, names]) => wanted.every((w) => names.includes(w))).map(([uid]) => uid);
      payload = encodeLocateResponse({ uniqueIdentifiers: uids });
    } else throw new Error(`unexpected operation ${item?.operation}`);
    return encodeTtlv(
      encodeResponseMessage({
        header: { protocolVersion: req.header.protocolVersion, timeStamp: 0n, batchCount: 1 },
        batchItems: [
          { operation: item.operation, uniqueBatchItemId: item.uniqueBatchItemId as Buffer, resultStatus: ResultStatus.Success, payload },
        ],
      }),
    );
  };
  const fake = (server: string, name: string): KmipTransport => ({
    server,
    async roundTrip(bytes) {
      const response = answer(bytes);
      if (name === 'a' && !aFailedOnce) {
        aFailedOnce = true;
        const err = new KmipClientError(failure, 'applied, then no answer', { server });
        err.requestMayHaveArrived = arrived;
        throw err;
      }
      return response;
    },
    peerCertificate: () => undefined,
    close: async () => undefined,
  });
  const p = new KeyProvider(
    { name: 'replicated', tls, servers: ['a', 'b'].map((name, i) => ({ name, host: '127.0.0.1', port: 6000 + i })) },
    { connect: (s) => new KmipClient(fake(`${s.host}:${s.port}`, s.name)) },
  );
  return { p, keys };
}

describe('KeyProvider.create retried after the server may have applied it', () => {
  it('returns the key the first server made instead of making a second one with the same name', async () => {
    const { p, keys } = replicatedPair();
    const uid = await p.create({ name: 'vm-42-kek' });
    expect(keys.size).toBe(1);
    expect(uid).toBe('key-1');
    const names = keys.get(uid) ?? [];
    expect(names[0]).toBe('vm-42-kek'); // the caller's name first, then the call's tag
    expect(names[1]).toMatch(new RegExp(`^${CREATE_TAG_PREFIX}[0-9a-f-]{36}$`));
    // A later create is a new key with its own tag.
    const second = await p.create({ name: 'vm-43-kek' });
    expect(second).toBe('key-2');
    expect(keys.get(second)?.[1]).not.toBe(names[1]);
    await p.close();
  });

  it('also when the server hung or answered garbage after applying it', async () => {
    for (const code of [KmipClientErrorCode.timeout, KmipClientErrorCode.badResponse]) {
      const { p, keys } = replicatedPair(code);
      expect(await p.create({ name: 'vm-44-kek' })).toBe('key-1');
      expect(keys.size).toBe(1);
      await p.close();
    }
  });

  it('also when the connection reports the request may have arrived before a refused reconnect (node killed mid-request)', async () => {
    const { p, keys } = replicatedPair(KmipClientErrorCode.unreachable, true);
    expect(await p.create({ name: 'vm-45-kek' })).toBe('key-1');
    expect(keys.size).toBe(1);
    await p.close();
  });
});
