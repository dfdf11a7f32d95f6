import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callPeer } from '../../../src/manager/inventory/cross-manager/peer-manager.js';
import { loadOrCreateCertificate, type ManagerCertificate } from '../../../src/manager/inventory/hosts/manager-identity.js';

/** The destination manager is reached with its certificate pinned: no token leaves before the pin matched. */
describe('callPeer: the pinned destination manager', () => {
  let dir: string;
  let cert: ManagerCertificate;
  let server: Server;
  let url = '';
  const seen: Array<{ auth: string | undefined; path: string | undefined }> = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmcrypt-peer-'));
    cert = await loadOrCreateCertificate(dir, 'manager-server', 'peer-test');
    server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
      seen.push({ auth: req.headers.authorization, path: req.url });
      res.setHeader('content-type', 'application/json');
      if (req.url === '/api/refuse') {
        res.statusCode = 409;
        res.end(JSON.stringify({ error: { code: 'MANAGER_CONFLICT', message: 'VM x has keys in key provider kp9 (rule: migrate-key-provider-known)' } }));
        return;
      }
      res.end(JSON.stringify({ ok: true }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const a = server.address();
    url = `https://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it('answers through the pinned certificate with the bearer token; a refusal keeps its code and says which manager refused', async () => {
    const peer = { url, thumbprint: cert.thumbprint, token: 'vmcm_peer-token' };
    expect(await callPeer(peer, 'GET', '/api/ok')).toEqual({ ok: true });
    expect(seen.at(-1)).toEqual({ auth: 'Bearer vmcm_peer-token', path: '/api/ok' });
    await expect(callPeer(peer, 'POST', '/api/refuse', {})).rejects.toMatchObject({
      code: 'MANAGER_CONFLICT', message: expect.stringMatching(new RegExp(`^the destination manager ${url} refused: .*rule: migrate-key-provider-known`)) as unknown,
    });
  });

  it('another certificate: refused before a byte is written (the server never sees the token)', async () => {
    const before = seen.length;
    await expect(callPeer({ url, thumbprint: 'ab'.repeat(32), token: 'vmcm_secret' }, 'POST', '/api/migrations/incoming', {})).rejects.toMatchObject({ code: 'MANAGER_FORBIDDEN' });
    expect(seen.length).toBe(before);
  });

  it('nobody listening: MANAGER_HOST_UNREACHABLE naming the destination', async () => {
    await expect(callPeer({ url: 'https://127.0.0.1:1', thumbprint: cert.thumbprint, token: 't' }, 'GET', '/api/ok')).rejects.toMatchObject({
      code: 'MANAGER_HOST_UNREACHABLE', message: expect.stringContaining('https://127.0.0.1:1') as unknown,
    });
  });
});
