import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initDataDir, kmsPaths } from '../../../src/kms/data-dir.js';
import { serveKms } from '../../../src/kms/serve.js';
import { adminRequest, type AdminResponse } from '../../../src/kms/unseal/admin-socket.js';
import { readAutoUnsealFile } from '../../../src/kms/unseal/auto-unseal-file.js';
import { openMaster, readSealedMaster, sealedMasterText } from '../../../src/kms/unseal/sealed-master.js';
import { writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { createKey, getKey, managerTls } from '../kmip-call.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmcrypt-rotate-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function untilDone(sock: string): Promise<AdminResponse> {
  for (;;) {
    const r = await adminRequest(sock, { op: 'status' });
    if ('error' in r || r.rotation?.state !== 'running') return r;
    await new Promise((res) => setTimeout(res, 50));
  }
}

describe('online master-key rotation', () => {
  it('re-seals every record under a new master key while serving, with progress; keys and the CA still work; shares unchanged', async () => {
    const data = join(dir, 'a');
    const unsealFile = join(dir, 'a.unseal');
    const init = await initDataDir(data, { seal: { shares: 5, threshold: 3, autoUnsealFile: unsealFile } });
    const paths = kmsPaths(data);
    const kms = await serveKms({ dataDir: data, host: '127.0.0.1', port: 0, autoUnsealFile: unsealFile, log: () => {} });
    const tls = await managerTls(data);
    const keys = new Map<string, Buffer>();
    for (let i = 0; i < 30; i++) {
      const id = await createKey(kms.port, tls);
      keys.set(id, (await getKey(kms.port, tls, id)) as Buffer);
    }
    const u = await readAutoUnsealFile(unsealFile);
    const before = openMaster(await readSealedMaster(paths.masterSealed), u);
    const db = await readFile(paths.database);
    expect(db.length).toBeGreaterThan(0);
    // wrong shares are refused before anything starts
    const other = await initDataDir(join(dir, 'other'), { seal: { shares: 3, threshold: 2 } });
    expect(await adminRequest(paths.adminSocket, { op: 'rotate', shares: other.shares! })).toMatchObject({ error: { code: 'UNSEAL_FAILED' } });
    const started = await adminRequest(paths.adminSocket, { op: 'rotate', shares: init.shares!.slice(1, 4) });
    expect(started).toMatchObject({ rotation: { state: 'running' } });
    const during = createKey(kms.port, tls); // Creates go on during the rotation
    const end = await untilDone(paths.adminSocket);
    expect(end).toMatchObject({ rotation: { state: 'done', done: expect.any(Number), total: expect.any(Number) } });
    const lateId = await during;
    for (const [id, key] of keys) expect(await getKey(kms.port, tls, id)).toEqual(key);
    await kms.close();
    const after = openMaster(await readSealedMaster(paths.masterSealed), u);
    expect(after.equals(before)).toBe(false);
    expect((await readSealedMaster(paths.masterSealed)).next).toBeUndefined();
    // restarted with the same unseal key (shares unchanged): everything readable, CA key opens
    const again = await serveKms({ dataDir: data, host: '127.0.0.1', port: 0, autoUnsealFile: unsealFile, log: () => {} });
    for (const [id, key] of keys) expect(await getKey(again.port, tls, id)).toEqual(key);
    expect(Buffer.isBuffer(await getKey(again.port, tls, lateId))).toBe(true);
    await again.close();
    const { issueClientCertificate } = await import('../../../src/kms/data-dir.js');
    await issueClientCertificate(data, 'after-rotation', undefined, { shares: [init.shares![0]!, init.shares![2]!, init.shares![4]!] });
  }, 120_000);

  it('a crash after the first step (both keys in master.sealed, records mixed) leaves every key readable; rerun completes', async () => {
    const data = join(dir, 'b');
    const unsealFile = join(dir, 'b.unseal');
    await initDataDir(data, { seal: { shares: 3, threshold: 2, autoUnsealFile: unsealFile } });
    const paths = kmsPaths(data);
    const kms = await serveKms({ dataDir: data, host: '127.0.0.1', port: 0, autoUnsealFile: unsealFile, log: () => {} });
    const tls = await managerTls(data);
    const oldId = await createKey(kms.port, tls);
    const oldKey = await getKey(kms.port, tls, oldId);
    await kms.close();
    // What a kill -9 right after step 1 leaves: master.sealed with old + next.
    const u = await readAutoUnsealFile(unsealFile);
    const info = await readSealedMaster(paths.masterSealed);
    const old = openMaster(info, u);
    await writeFile(paths.masterSealed, sealedMasterText(old, u, info.shares, info.threshold, randomBytes(32)), { mode: 0o600 });
    const lines: string[] = [];
    const mid = await serveKms({ dataDir: data, host: '127.0.0.1', port: 0, autoUnsealFile: unsealFile, log: (l) => lines.push(l) });
    expect(lines.join('\n')).toContain('rotation did not finish');
    expect(await getKey(mid.port, tls, oldId)).toEqual(oldKey); // under the old key
    const newId = await createKey(mid.port, tls); // under the new key
    const newKey = await getKey(mid.port, tls, newId);
    expect(await adminRequest(paths.adminSocket, { op: 'rotate', autoUnsealFile: unsealFile })).toMatchObject({ rotation: { state: 'running' } });
    expect(await untilDone(paths.adminSocket)).toMatchObject({ rotation: { state: 'done' } });
    await mid.close();
    const fin = await serveKms({ dataDir: data, host: '127.0.0.1', port: 0, autoUnsealFile: unsealFile, log: () => {} });
    expect(await getKey(fin.port, tls, oldId)).toEqual(oldKey);
    expect(await getKey(fin.port, tls, newId)).toEqual(newKey);
    await fin.close();
  }, 120_000);
});
