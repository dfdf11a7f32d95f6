import { describe, expect, it } from 'vitest';
import { DownList, failureKind, runWithFailover, type Clock } from '../../src/keyprovider/failover.js';
import { KeyProviderError } from '../../src/keyprovider/errors.js';
import { KmipClientError, KmipClientErrorCode, KmipOperationError } from '../../src/kmip/client/errors.js';

/** A clock the test moves by hand; attempts "take" time by advancing it. */
function fakeClock(): Clock & { advance(ms: number): void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

const servers = ['a', 'b', 'c'].map((name, i) => ({ name, address: `10.0.0.${i + 1}:5696` }));

function clientError(code: (typeof KmipClientErrorCode)[keyof typeof KmipClientErrorCode], msg: string, addr?: string) {
  return new KmipClientError(code, msg, addr === undefined ? {} : { server: addr });
}

describe('failureKind', () => {
  it('fails over on transport failures only', () => {
    expect(failureKind(clientError(KmipClientErrorCode.unreachable, 'x'))).toBe('unreachable');
    expect(failureKind(clientError(KmipClientErrorCode.timeout, 'x'))).toBe('hung');
    expect(failureKind(clientError(KmipClientErrorCode.connectionLost, 'x'))).toBe('lost');
    expect(failureKind(clientError(KmipClientErrorCode.tls, 'x'))).toBe('tls');
    expect(failureKind(clientError(KmipClientErrorCode.badResponse, 'x'))).toBe('protocol');
    expect(failureKind(clientError(KmipClientErrorCode.responseTooLarge, 'x'))).toBe('protocol');
    expect(failureKind(clientError(KmipClientErrorCode.closed, 'x'))).toBeUndefined();
    expect(failureKind(clientError(KmipClientErrorCode.invalidArgument, 'x'))).toBeUndefined();
    const answered = new KmipOperationError({ operation: 'Get', reason: 'ItemNotFound', reasonValue: 1, resultMessage: '' });
    expect(failureKind(answered)).toBeUndefined();
    expect(failureKind(new Error('boom'))).toBeUndefined();
  });
});

describe('runWithFailover', () => {
  it('uses the first server when it answers', async () => {
    const down = new DownList(60_000);
    const tried: string[] = [];
    const r = await runWithFailover({
      provider: 'p',
      servers,
      down,
      attempt: async (s) => (tried.push(s.name), `ok from ${s.name}`),
    });
    expect(r).toBe('ok from a');
    expect(tried).toEqual(['a']);
  });

  it('moves on past a refused and a hung server, reporting each', async () => {
    const clock = fakeClock();
    const down = new DownList(60_000, clock);
    const seen: string[] = [];
    const r = await runWithFailover({
      provider: 'p',
      servers,
      down,
      clock,
      onFailover: (f) => seen.push(`${f.server}:${f.kind}:${f.elapsedMs}`),
      attempt: async (s) => {
        if (s.name === 'a') throw clientError(KmipClientErrorCode.unreachable, 'connect ECONNREFUSED', s.address);
        if (s.name === 'b') {
          clock.advance(60_000);
          throw clientError(KmipClientErrorCode.timeout, 'no answer within 60000 ms', s.address);
        }
        return s.name;
      },
    });
    expect(r).toBe('c');
    expect(seen).toEqual(['a:unreachable:0', 'b:hung:60000']);
  });

  it('does not fail over when the server answered with an error', async () => {
    const down = new DownList(60_000);
    const tried: string[] = [];
    const err = await runWithFailover({
      provider: 'p',
      servers,
      down,
      attempt: async (s) => {
        tried.push(s.name);
        throw new KmipOperationError({ operation: 'Get', reason: 'ItemNotFound', reasonValue: 1, resultMessage: 'no such key' });
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KmipOperationError);
    expect(tried).toEqual(['a']);
  });

  it('names every server and why when all fail', async () => {
    const down = new DownList(60_000);
    const err = await runWithFailover({
      provider: 'prod',
      servers,
      down,
      attempt: async (s) => {
        const code =
          s.name === 'a' ? KmipClientErrorCode.unreachable : s.name === 'b' ? KmipClientErrorCode.timeout : KmipClientErrorCode.tls;
        throw clientError(code, `failure of ${s.name}`, s.address);
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyProviderError);
    const e = err as KeyProviderError;
    expect(e.code).toBe('KEY_PROVIDER_UNREACHABLE');
    expect(e.attempts.map((a) => `${a.server}/${a.kind}/${a.code}`)).toEqual([
      'a/unreachable/KMIP_CLIENT_UNREACHABLE',
      'b/hung/KMIP_CLIENT_TIMEOUT',
      'c/tls/KMIP_CLIENT_TLS',
    ]);
    expect(e.message).toContain('key provider "prod": all 3 key servers failed');
    expect(e.message).toContain('a (10.0.0.1:5696): unreachable: failure of a');
    expect(e.message).toContain('c (10.0.0.3:5696): tls: failure of c');
  });

  it('tries a failed server last until downRetryMs passes, then first again', async () => {
    const clock = fakeClock();
    const down = new DownList(30_000, clock);
    let aWorks = false;
    const order: string[][] = [];
    const run = async (): Promise<string> => {
      const tried: string[] = [];
      order.push(tried);
      return runWithFailover({
        provider: 'p',
        servers,
        down,
        clock,
        attempt: async (s) => {
          tried.push(s.name);
          if (s.name === 'a' && !aWorks) throw clientError(KmipClientErrorCode.timeout, 'hung');
          return s.name;
        },
      });
    };
    expect(await run()).toBe('b');
    expect(await run()).toBe('b');
    clock.advance(29_999);
    expect(await run()).toBe('b');
    clock.advance(2);
    aWorks = true;
    expect(await run()).toBe('a');
    expect(await run()).toBe('a');
    expect(order).toEqual([['a', 'b'], ['b'], ['b'], ['a'], ['a']]);
  });

  it('still tries servers marked down when the healthy ones fail', async () => {
    const clock = fakeClock();
    const down = new DownList(60_000, clock);
    down.markDown('a');
    const tried: string[] = [];
    const r = await runWithFailover({
      provider: 'p',
      servers,
      down,
      clock,
      attempt: async (s) => {
        tried.push(s.name);
        if (s.name !== 'a') throw clientError(KmipClientErrorCode.connectionLost, 'reset');
        return 'a';
      },
    });
    expect(r).toBe('a');
    expect(tried).toEqual(['b', 'c', 'a']);
    expect(down.isDown('a')).toBe(false);
    expect(down.isDown('b')).toBe(true);
  });
});
