import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import { startPykmip, type PykmipServer } from '../helpers/pykmip.js';
import { freePort } from '../helpers/net.js';
import { KeyProvider, KeyProviderError, type FailedAttempt, type KeyServerConfig } from '../../src/keyprovider/index.js';
import type { TlsIdentity } from '../../src/kmip/client/index.js';

function identity(s: PykmipServer): TlsIdentity {
  return { ca: s.ca.certPem, cert: s.client.certPem, key: s.client.keyPem };
}

/** Waits until /proc says the process is in `state` (signal delivery is asynchronous). */
async function untilState(pid: number, state: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith(state)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`process ${pid} never reached state ${state}`);
}

/** A TCP listener that accepts connections and never says a word: a hung KMS service. */
async function startHungListener(): Promise<{ port: number; close(): Promise<void> }> {
  const held: Socket[] = [];
  const srv: Server = createServer((s) => {
    held.push(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return {
    port: (srv.address() as { port: number }).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of held) s.destroy();
        srv.close(() => r());
      }),
  };
}

describe('key provider failover with real processes', () => {
  let kms1: PykmipServer;
  let kms2: PykmipServer;
  let hung: { port: number; close(): Promise<void> };
  let refusedPort: number;

  beforeAll(async () => {
    [kms1, kms2] = await Promise.all([startPykmip(), startPykmip()]);
    hung = await startHungListener();
    refusedPort = await freePort();
  });
  afterAll(async () => {
    await hung?.close();
    await kms1?.stop();
    await kms2?.stop();
  });

  it('skips a refused server at once and a hung one after the hung timeout', async () => {
    const failovers: FailedAttempt[] = [];
    const servers: KeyServerConfig[] = [
      { name: 'refused', host: '127.0.0.1', port: refusedPort, tls: identity(kms1) },
      { name: 'hung', host: '127.0.0.1', port: hung.port, tls: identity(kms1) },
      { name: 'kms1', host: '127.0.0.1', port: kms1.port, tls: identity(kms1) },
    ];
    const provider = new KeyProvider(
      { name: 'lab', servers, hungTimeoutMs: 2000 },
      { onFailover: (f) => failovers.push(f) },
    );
    try {
      const uid = await provider.create({ name: 'failover-kek' });
      expect(uid).not.toBe('');
      expect(failovers.map((f) => `${f.server}:${f.kind}`)).toEqual(['refused:unreachable', 'hung:hung']);
      expect(failovers[1]?.code).toBe('KMIP_CLIENT_TIMEOUT');
      // Both failed servers are now tried last: the next call goes straight to kms1.
      failovers.length = 0;
      const key = await provider.get(uid);
      key.material.fill(0);
      expect(failovers).toEqual([]);
      const health = await provider.health({ timeoutMs: 2000 });
      expect(health.status).toBe('warning');
      expect(health.servers.map((s) => `${s.name}:${s.status}`)).toEqual(['refused:error', 'hung:error', 'kms1:ok']);
      expect(health.servers[0]?.error?.code).toBe('KMIP_CLIENT_UNREACHABLE');
      expect(health.servers[1]?.error?.code).toBe('KMIP_CLIENT_TIMEOUT');
      expect(health.servers[2]?.certificate?.daysLeft).toBeGreaterThan(0);
    } finally {
      await provider.close();
    }
  });

  it('treats a stopped (SIGSTOP) KMS process as hung, and uses it again once it is back', async () => {
    const frozen = await startPykmip();
    const failovers: FailedAttempt[] = [];
    const provider = new KeyProvider(
      {
        name: 'freeze',
        hungTimeoutMs: 2000,
        downRetryMs: 1000,
        servers: [
          { name: 'frozen', host: '127.0.0.1', port: frozen.port, tls: identity(frozen) },
          { name: 'kms2', host: '127.0.0.1', port: kms2.port, tls: identity(kms2) },
        ],
      },
      { onFailover: (f) => failovers.push(f) },
    );
    const pgid = frozen.process.child.pid as number;
    try {
      const used = (): Promise<string> => provider.run(async (c, s) => (await c.discoverVersions(), s.name));
      expect(await used()).toBe('frozen');
      process.kill(-pgid, 'SIGSTOP'); // the kernel still accepts connections; nobody answers
      await untilState(pgid, 'T');
      expect(await used()).toBe('kms2');
      expect(failovers.map((f) => `${f.server}:${f.kind}`)).toEqual(['frozen:hung']);
      process.kill(-pgid, 'SIGCONT');
      // Once its down mark expires, the first server is tried first again and answers.
      let back = false;
      for (let i = 0; i < 40 && !back; i++) {
        back = (await used()) === 'frozen';
        if (!back) await new Promise((r) => setTimeout(r, 250));
      }
      expect(back).toBe(true);
    } finally {
      try {
        process.kill(-pgid, 'SIGCONT');
      } catch {
        // already gone
      }
      await provider.close();
      await frozen.stop();
    }
  });

  it('keeps a stream of operations going when the KMS in use is killed mid-stream', async () => {
    const failovers: FailedAttempt[] = [];
    const provider = new KeyProvider(
      {
        name: 'pair',
        servers: [
          { name: 'kms1', host: '127.0.0.1', port: kms1.port, tls: identity(kms1) },
          { name: 'kms2', host: '127.0.0.1', port: kms2.port, tls: identity(kms2) },
        ],
        hungTimeoutMs: 10_000,
      },
      { onFailover: (f) => failovers.push(f) },
    );
    const usedBy = new Map<string, number>();
    let failed = 0;
    try {
      for (let i = 0; i < 60; i++) {
        if (i === 20) void kms1.stop(); // SIGKILL while operations keep flowing
        try {
          await provider.run(async (client, server) => {
            await client.discoverVersions();
            usedBy.set(server.name, (usedBy.get(server.name) ?? 0) + 1);
          });
        } catch {
          failed += 1;
        }
      }
    } finally {
      await provider.close();
    }
    expect(failed).toBe(0);
    expect(usedBy.get('kms1')).toBeGreaterThanOrEqual(20);
    expect(usedBy.get('kms2')).toBeGreaterThan(0);
    expect(failovers.length).toBeGreaterThan(0);
    expect(failovers.every((f) => f.server === 'kms1' && ['lost', 'unreachable'].includes(f.kind))).toBe(true);
  });

  it('names every server and why when none can be used', async () => {
    const provider = new KeyProvider({
      name: 'dead',
      tls: identity(kms2),
      hungTimeoutMs: 2000,
      servers: [
        { name: 'a', host: '127.0.0.1', port: refusedPort },
        { name: 'b', host: '127.0.0.1', port: hung.port },
        { name: 'c', host: '127.0.0.1', port: kms1.port }, // killed in the previous test
      ],
    });
    try {
      const err = await provider.create().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KeyProviderError);
      const e = err as KeyProviderError;
      expect(e.code).toBe('KEY_PROVIDER_UNREACHABLE');
      expect(e.attempts.map((a) => `${a.server}:${a.kind}`)).toEqual(['a:unreachable', 'b:hung', 'c:unreachable']);
      expect(e.message).toContain(`a (127.0.0.1:${refusedPort}): unreachable`);
      expect(e.message).toContain(`b (127.0.0.1:${hung.port}): hung`);
    } finally {
      await provider.close();
    }
  });
});
