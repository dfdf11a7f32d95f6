import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CONNECTIONS, startHostAgent, type RunningAgent } from '../../src/host/agent.js';
import { HostClient } from '../../src/host/client/host-client.js';
import { certificateInfo } from '../../src/pki/index.js';
import { makeManagerIdentity, tempDir, type ManagerIdentity } from './harness.js';

// The API's handling of hostile input: thousands of idle connections must not pile up
// (beyond MAX_CONNECTIONS the agent drops them); malformed paths get a clear 400.
describe('host agent API: limits and malformed input', () => {
  let dir: { path: string; remove(): Promise<void> };
  let agent: RunningAgent;
  let id: ManagerIdentity;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    dir = await tempDir('vmcrypt-agent-limits-');
    id = await makeManagerIdentity();
    agent = await startHostAgent({
      dataDir: join(dir.path, 'data'), name: 'esx-l', host: '127.0.0.1', port: 0, print: () => undefined,
      managerFingerprint: certificateInfo(id.certPem).sha256Fingerprint,
    });
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await agent.stop();
    await dir.remove();
  });

  it('answers a key id with broken percent-encoding with 400 HOST_BAD_REQUEST, not 500', async () => {
    const c = new HostClient({ url: agent.url, certPem: id.certPem, keyPem: id.keyPem, thumbprint: agent.thumbprint });
    await expect(c.call('DELETE', '/v1/keys/%E0%A4%A')).rejects.toMatchObject({ code: 'HOST_BAD_REQUEST', status: 400 });
  });

  it('drops connections beyond MAX_CONNECTIONS at once', async () => {
    const port = Number(new URL(agent.url).port);
    const extra = 8;
    const closedByServer = Array.from({ length: MAX_CONNECTIONS + extra }, () =>
      new Promise<boolean>((resolve) => {
        const s = connect(port, '127.0.0.1');
        sockets.push(s);
        s.on('error', () => undefined);
        s.once('close', () => resolve(true));
        s.once('connect', () => undefined);
      }),
    );
    // the first MAX_CONNECTIONS stay open (idle); the extra ones are closed by the server
    const closed: number[] = [];
    closedByServer.forEach((p, i) => void p.then(() => closed.push(i)));
    while (closed.length < extra) await new Promise((r) => setTimeout(r, 20));
    expect(closed.length).toBe(extra);
  });
});
